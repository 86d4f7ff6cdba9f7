"""Small, complete controllers that show how the framework is used."""
