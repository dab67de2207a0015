"""Frame -> OCR -> privacy -> rows -> resource and episodic memories, and the job queue."""
