"""Trackers: pixels in, geometry out (faces, hands, head pose). They know nothing of products."""
