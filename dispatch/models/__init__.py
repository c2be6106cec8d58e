from dispatch.models.catalog import Category, ResponsibilityRule  # noqa: F401
