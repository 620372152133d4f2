"""Front ends that bring atomwork to where people work (Slack, ...), all built on
:class:`~atomwork.conversation.Conversation`."""
