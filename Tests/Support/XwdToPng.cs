using System.Buffers.Binary;
using System.IO.Compression;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// Turns an X window dump (what <c>xwd -root</c> prints: a TrueColor ZPixmap, as Xvfb gives) into a PNG, so a
/// screenshot needs only x11-apps and no ImageMagick (a machine may have a <c>convert</c> that is not ImageMagick).
/// </summary>
public static class XwdToPng
{
    private const int HeaderFields = 25;

    /// <summary>Converts the dump; throws <see cref="InvalidDataException"/> naming what it cannot read.</summary>
    public static byte[] Convert(ReadOnlySpan<byte> xwd)
    {
        if (xwd.Length < HeaderFields * 4)
        {
            throw new InvalidDataException($"an xwd dump has a {HeaderFields * 4}-byte header; got {xwd.Length} bytes");
        }

        var head = xwd[..(HeaderFields * 4)].ToArray();
        uint Field(int i) => BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(i * 4));
        var (headerSize, version, format) = ((int)Field(0), Field(1), Field(2));
        var (width, height, byteOrder) = ((int)Field(4), (int)Field(5), Field(7));
        var (bitsPerPixel, bytesPerLine) = ((int)Field(11), (int)Field(12));
        var (redMask, greenMask, blueMask) = (Field(14), Field(15), Field(16));
        var colours = (int)Field(19);
        if (version != 7 || format != 2 || (bitsPerPixel != 32 && bitsPerPixel != 24))
        {
            throw new InvalidDataException($"only version 7 ZPixmap dumps of 24 or 32 bits per pixel are read (version {version}, format {format}, {bitsPerPixel} bits)");
        }

        var pixels = headerSize + (colours * 12);
        if (width <= 0 || height <= 0 || (long)pixels + ((long)bytesPerLine * height) > xwd.Length)
        {
            throw new InvalidDataException($"the dump is cut short ({width}x{height}, {bytesPerLine} bytes a line, {xwd.Length} bytes)");
        }

        // Each PNG row: filter byte 0, then RGB.
        var raw = new byte[height * (1 + (width * 3))];
        var bytesPerPixel = bitsPerPixel / 8;
        for (var y = 0; y < height; y++)
        {
            var line = xwd.Slice(pixels + (y * bytesPerLine), width * bytesPerPixel);
            var row = raw.AsSpan((y * (1 + (width * 3))) + 1, width * 3);
            for (var x = 0; x < width; x++)
            {
                var p = line.Slice(x * bytesPerPixel, bytesPerPixel);
                uint value = 0;
                for (var b = 0; b < bytesPerPixel; b++)
                {
                    // byte_order 0 is LSBFirst.
                    value |= (uint)p[byteOrder == 0 ? b : bytesPerPixel - 1 - b] << (8 * b);
                }

                row[x * 3] = Channel(value, redMask);
                row[(x * 3) + 1] = Channel(value, greenMask);
                row[(x * 3) + 2] = Channel(value, blueMask);
            }
        }

        return Png(width, height, raw);
    }

    private static byte Channel(uint value, uint mask)
    {
        if (mask == 0)
        {
            return 0;
        }

        var shift = System.Numerics.BitOperations.TrailingZeroCount(mask);
        var max = mask >> shift;
        return (byte)(((value & mask) >> shift) * 255 / max);
    }

    private static byte[] Png(int width, int height, byte[] rows)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per channel
        header[9] = 2; // truecolour RGB
        Chunk(png, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(rows);
            }

            Chunk(png, "IDAT", compressed.ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu);
        png.Write(word);
    }

    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }
}
