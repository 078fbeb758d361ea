"""The HTTP surface: OAuth/OIDC endpoints and the Graph v1.0 subset, one router per resource."""
