use super::*;

#[test]
fn the_zip_bombs_blocks_repeated_inflate_to_zeros() {
    let (block, crc) = zeros_deflated(1 << 20);
    let stream = [&block[..], &block, &[0x03, 0x00]].concat();
    let inflated = miniz_oxide::inflate::decompress_to_vec(&stream).unwrap();
    assert_eq!(inflated.len(), 2 << 20);
    assert!(inflated.iter().all(|b| *b == 0));
    let mut twice = crc.clone();
    twice.combine(&crc);
    assert_eq!(twice.finalize(), crc32fast::hash(&inflated));
    assert!(block.len() < 2048, "{} bytes per MiB", block.len());
}

#[test]
fn the_zip_bomb_fills_what_it_is_given_and_names_its_entries() {
    let png = encode(ImageFormat::Png, &picture(4, 4));
    let file = with_zip_bomb_after(&png, 3_000_000);
    assert!(file.starts_with(&png));
    assert!(
        file.len() > 2_000_000 && file.len() <= 3_000_000,
        "{}",
        file.len()
    );
    let eocd = &file[file.len() - 22..];
    assert_eq!(&eocd[..4], &0x0605_4b50u32.to_le_bytes());
    let entries = u16::from_le_bytes([eocd[10], eocd[11]]);
    assert_eq!(entries, 2);
    let central_at = u32::from_le_bytes(eocd[16..20].try_into().unwrap()) as usize;
    assert_eq!(
        &file[central_at..central_at + 4],
        &0x0201_4b50u32.to_le_bytes()
    );
    let first = u32::from_le_bytes(file[central_at + 42..central_at + 46].try_into().unwrap());
    assert_eq!(first as usize, png.len());
    assert_eq!(
        &file[png.len()..png.len() + 4],
        &0x0403_4b50u32.to_le_bytes()
    );
}
