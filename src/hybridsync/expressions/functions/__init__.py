"""The built-in functions, one module per family of the functions reference."""
