"""The chat window: conversation list, session picker, streaming transcript with receipts, export."""
