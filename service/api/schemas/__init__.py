"""Request and response models of the routes that are too long, or too shared, to stand beside
their handlers: the validation protocol, OpenAI's chat protocol, the case filters."""
