-- A disabled app gets no tokens, and the tokens it holds are refused.
ALTER TABLE apps ADD COLUMN disabled_at BIGINT;

-- Signing keys have ids: `token-signing.NNNN`, the highest signs new tokens,
-- and earlier ones verify the tokens they signed until those expire. The one
-- key there was becomes the first.
UPDATE server_keys SET name = 'token-signing.0000' WHERE name = 'token-signing';
