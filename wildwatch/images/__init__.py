"""Listing images: checking downloads, perceptual hashes, OCR and image links between listings (issue 14)."""
