"""Building blocks shared by every domain area: mixins, dealer scoping, roles, htmx and form helpers."""
