"""Shared package of every Lambda function: settings, database, models, repositories, services."""
