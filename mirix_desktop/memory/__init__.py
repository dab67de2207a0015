"""The encrypted memory engine: store, keys, migrations, embeddings and search."""
