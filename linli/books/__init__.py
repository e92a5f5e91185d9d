"""The community's books: double-entry bookkeeping of its public money, in integer fen
(docs/books.md)."""
