"""Sign-in: the credential checks of the token endpoint and the sign-in page."""
