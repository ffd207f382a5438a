"""Lenses: one module per product family (lipstick, ...) turning tracked geometry into pixels."""
