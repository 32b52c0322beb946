"""Datasets at scale: TRL and chain rows from JSONL, Parquet or Arrow, validated on every core or
across a Ray cluster. pyarrow and Ray are optional (`pip install 'faithgate[datasets]'`)."""
