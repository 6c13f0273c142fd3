"""Entry points for training in a container (Google Cloud AI Platform)."""
