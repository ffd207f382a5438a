"""One ``APIRouter`` per resource: products, try-on, the mirror socket, and the pages (mirror, share pages)."""
