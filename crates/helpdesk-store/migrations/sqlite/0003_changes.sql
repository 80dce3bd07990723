-- One counter, bumped in the same transaction as every write that can make a
-- cached decision wrong (a delete, a revocation, a key rotation). Servers
-- poll it and drop their caches when it moves.
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO changes (id, generation) VALUES (1, 0);
