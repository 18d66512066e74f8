-- Who may cancel or move a booking: whoever holds its management token, given once in the answer that made the
-- booking. Only the token's SHA-256 is stored. Bookings made before this, or outside the API, have none: the
-- API lets nobody manage them (an operator can, in SQL).
ALTER TABLE bookings ADD COLUMN management_token_hash bytea
  CHECK (octet_length(management_token_hash) = 32);
