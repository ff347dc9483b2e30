"""Build and Push to ECR: a CI plugin that builds a container image and pushes it to Amazon ECR."""

__version__ = "0.1.0"
