"""Qt item models: the message list of a conversation, the conversation list, members."""
