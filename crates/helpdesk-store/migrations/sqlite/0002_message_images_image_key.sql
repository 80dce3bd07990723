-- A delete asks whether any live message still uses an upload key.
CREATE INDEX message_images_image_key ON message_images (image_key);
