"""OCR engines: image regions in, text lines with boxes and confidences out."""
