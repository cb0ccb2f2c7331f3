"""What talks to the outside world: the customs endpoint client, the mock customs service, the embedded broker."""
