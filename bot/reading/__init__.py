"""Reading task UIDs out of text a person typed or a message carried. Pure."""
