-- Meaning-level similarity and the control's noise floor, per diff.
ALTER TABLE diffs ADD COLUMN IF NOT EXISTS semantic_similarity double precision;
ALTER TABLE diffs ADD COLUMN IF NOT EXISTS noise_semantic double precision;
