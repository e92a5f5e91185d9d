"""The transparency log: one append-only RFC 6962 Merkle log per community, its signed
checkpoints, witnesses' cosignatures and the HTTP interface a checker reads
(docs/transparency.md)."""
