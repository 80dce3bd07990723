use super::*;

/// A little-endian EXIF: IFD0 with Make, Orientation and a GPS pointer,
/// then a GPS IFD with a latitude (three RATIONALs, out of line).
fn exif_with_gps() -> Vec<u8> {
    let mut b = b"II*\0".to_vec();
    b.extend(8u32.to_le_bytes());
    // IFD0 at 8: 3 entries, ends at 8 + 2 + 36 + 4 = 50.
    b.extend(3u16.to_le_bytes());
    b.extend(0x010Fu16.to_le_bytes()); // Make, ASCII "Cam\0" inline
    b.extend(2u16.to_le_bytes());
    b.extend(4u32.to_le_bytes());
    b.extend(*b"Cam\0");
    b.extend(TAG_ORIENTATION.to_le_bytes());
    b.extend(3u16.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend([6, 0, 0, 0]);
    b.extend(TAG_GPS_IFD.to_le_bytes());
    b.extend(4u16.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend(50u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    // GPS IFD at 50: 1 entry, ends at 50 + 2 + 12 + 4 = 68.
    b.extend(1u16.to_le_bytes());
    b.extend(2u16.to_le_bytes()); // GPSLatitude
    b.extend(5u16.to_le_bytes());
    b.extend(3u32.to_le_bytes());
    b.extend(68u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    for n in [52u32, 1, 30, 1, 0, 1] {
        b.extend(n.to_le_bytes());
    }
    b
}

#[test]
fn removing_gps_keeps_the_length_and_the_other_fields() {
    let mut exif = exif_with_gps();
    let len = exif.len();
    assert!(has_gps(&exif));
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Removed);
    assert_eq!(exif.len(), len);
    assert!(!has_gps(&exif));
    assert_eq!(orientation(&exif), Some(6));
    assert_eq!(&exif[18..22], b"Cam\0");
    // The GPS IFD and the latitude are zeroes now.
    assert!(exif[50..].iter().all(|&b| b == 0));
    assert_eq!(remove_gps(&mut exif), GpsRemoval::None);
}

#[test]
fn a_gps_pointer_and_values_claiming_four_gigabytes_are_cut_to_the_buffer() {
    let mut exif = exif_with_gps();
    // The latitude claims u32::MAX rationals at offset 68.
    exif[50 + 2 + 4..50 + 2 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Removed);
    assert!(!has_gps(&exif));
}

#[test]
fn an_ifd_chain_that_loops_is_walked_once() {
    let mut exif = exif_with_gps();
    // IFD0's next-IFD offset points back at IFD0.
    exif[46..50].copy_from_slice(&8u32.to_le_bytes());
    assert_eq!(chain(&exif, header(&exif).unwrap()).len(), 1);
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Removed);
    assert!(!has_gps(&exif));
}

#[test]
fn an_ifd_count_past_the_end_is_cut_to_the_entries_that_fit() {
    let mut exif = exif_with_gps();
    exif[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(has_gps(&exif));
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Removed);
    assert!(!has_gps(&exif));
}

/// A little-endian IFD0 of `pointers` GPS pointer entries, the i-th to
/// offset `target(i)`, then 64 zero bytes for them to point into.
fn exif_with_pointers(pointers: u16, target: impl Fn(u16) -> u32) -> Vec<u8> {
    let mut b = b"II*\0".to_vec();
    b.extend(8u32.to_le_bytes());
    b.extend(pointers.to_le_bytes());
    for i in 0..pointers {
        b.extend(TAG_GPS_IFD.to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(target(i).to_le_bytes());
    }
    b.extend(0u32.to_le_bytes());
    b.extend([0u8; 64]);
    b
}

#[test]
fn every_copy_of_a_repeated_gps_pointer_goes_in_one_pass() {
    let mut exif = exif_with_pointers(60_000, |_| 8);
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Removed);
    assert!(!has_gps(&exif));
    assert_eq!(u16_at(&exif, 8, false), Some(0));
}

#[test]
fn more_distinct_gps_ifds_than_a_real_file_has_are_tangled() {
    let mut exif = exif_with_pointers(1000, |i| 8 + 2 * u32::from(i));
    assert_eq!(remove_gps(&mut exif), GpsRemoval::Tangled);
}

#[test]
fn the_minimal_exif_holds_its_orientation() {
    let exif = minimal_with_orientation(6);
    assert_eq!(exif.len(), 26);
    assert_eq!(orientation(&exif), Some(6));
    assert!(!has_gps(&exif));
}

#[test]
fn orientations_outside_the_eight_defined_are_not_read() {
    for value in [0u16, 9, 0xFFFF] {
        assert_eq!(orientation(&minimal_with_orientation(value)), None);
    }
}

#[test]
fn not_a_tiff_header_reads_as_nothing() {
    for buf in [
        &b""[..],
        b"II*",
        b"XX*\0\0\0\0\x08",
        b"MM\0*\xff\xff\xff\xff",
    ] {
        assert!(!has_gps(buf));
        assert_eq!(orientation(buf), None);
        assert_eq!(remove_gps(&mut buf.to_vec()), GpsRemoval::None);
    }
}
