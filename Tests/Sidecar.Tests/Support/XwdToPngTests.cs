using System.Buffers.Binary;
using System.IO.Compression;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.SupportTests;

public sealed class XwdToPngTests
{
    [Fact]
    public void Convert_TrueColorDump_GivesAPngWithTheSamePixels()
    {
        // 2x2, 32 bits per pixel, LSBFirst, masks as Xvfb's depth 24: red, green / blue, white.
        var png = XwdToPng.Convert(Dump(2, 2, [0x00FF0000, 0x0000FF00, 0x000000FF, 0x00FFFFFF]));

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var (width, height, rows) = Read(png);
        Assert.Equal((2, 2), (width, height));
        Assert.Equal(new byte[] { 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255 }, rows);
    }

    [Fact]
    public void Convert_CutShort_SaysSo()
    {
        var dump = Dump(2, 2, [1, 2, 3, 4]);
        var e = Assert.Throws<InvalidDataException>(() => XwdToPng.Convert(dump.AsSpan(0, dump.Length - 1)));
        Assert.Contains("cut short", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Dump(int width, int height, uint[] pixels)
    {
        const int headerSize = 100 + 4; // 25 fields and a 4-byte window name
        var dump = new byte[headerSize + (pixels.Length * 4)];
        uint[] fields = [headerSize, 7, 2, 24, (uint)width, (uint)height, 0, 0, 32, 0, 32, 32, (uint)width * 4, 4, 0xFF0000, 0xFF00, 0xFF, 8, 0, 0, (uint)width, (uint)height, 0, 0, 0];
        for (var i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(dump.AsSpan(i * 4), fields[i]);
        }

        "root"u8.CopyTo(dump.AsSpan(100));
        for (var i = 0; i < pixels.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(dump.AsSpan(headerSize + (i * 4)), pixels[i]);
        }

        return dump;
    }

    private static (int Width, int Height, byte[] Rows) Read(byte[] png)
    {
        var (width, height) = (0, 0);
        using var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]));
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            at += 12 + length;
        }

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        using var rows = new MemoryStream();
        zlib.CopyTo(rows);
        return (width, height, rows.ToArray());
    }
}
