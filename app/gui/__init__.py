"""The desktop GUI (PySide6 on a qasync loop); the only package that imports Qt."""
