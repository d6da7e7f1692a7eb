using System.Buffers.Binary;
using System.Text;

namespace CaptionSidecar.Audio;

/// <summary>Where a WAV file's samples are and how they are stored.</summary>
/// <param name="Encoding">Sample encoding.</param>
/// <param name="SampleRate">Frames per second.</param>
/// <param name="Channels">Channels per frame (1 or 2).</param>
/// <param name="DataOffset">Byte offset of the first sample in the stream.</param>
/// <param name="DataLength">Declared length of the data chunk in bytes, or null when the writer left it open (0xFFFFFFFF).</param>
internal sealed record WavLayout(PcmEncoding Encoding, int SampleRate, int Channels, long DataOffset, long? DataLength)
{
    /// <summary>A description for logs, e.g. "16-bit PCM, 48000 Hz, 2 channels".</summary>
    public override string ToString() => $"{Describe(Encoding)}, {new AudioFormat(SampleRate, Channels)}";

    /// <summary>"16-bit PCM", "24-bit PCM" or "32-bit float".</summary>
    public static string Describe(PcmEncoding encoding) => encoding switch
    {
        PcmEncoding.Int16 => "16-bit PCM",
        PcmEncoding.Int24 => "24-bit PCM",
        _ => "32-bit float",
    };
}

/// <summary>
/// Reads the header of a RIFF/WAVE stream: chunks in any order (unknown ones skipped, pad bytes honoured), a
/// <c>fmt </c> chunk of 16- or 24-bit PCM or 32-bit float (plain or WAVE_FORMAT_EXTENSIBLE), 8-384 kHz, mono or
/// stereo. Anything else is an <see cref="AudioFormatException"/> naming the file, what it holds and what works.
/// </summary>
internal static class WavReader
{
    private const string Supported = "use a WAV file of 16- or 24-bit PCM or 32-bit float, mono or stereo, 8-384 kHz";
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;
    private const uint OpenEnded = 0xFFFFFFFF;

    /// <summary>
    /// Parses the header of <paramref name="stream"/> and leaves the stream at the first sample.
    /// <paramref name="name"/> is how the file is named in error messages.
    /// </summary>
    public static WavLayout ReadHeader(Stream stream, string name)
    {
        Span<byte> riff = stackalloc byte[12];
        var got = ReadFully(stream, riff);
        if (got < 4 || !riff[..4].SequenceEqual("RIFF"u8))
        {
            if (got >= 4 && riff[..4].SequenceEqual("RF64"u8))
            {
                throw Fail(name, "an RF64 file (WAV over 4 GB) is not supported", Supported);
            }

            var found = got == 0 ? "an empty file" : $"a file starting with '{Printable(riff[..Math.Min(got, 4)])}' instead of 'RIFF'";
            throw Fail(name, $"not a WAV file: {found}", Supported);
        }

        if (got < 12)
        {
            throw Fail(name, $"the file ends inside the RIFF header ({got} of 12 bytes)", "the file is cut off; " + Supported);
        }

        if (!riff[8..12].SequenceEqual("WAVE"u8))
        {
            throw Fail(name, $"a RIFF file of type '{Printable(riff[8..12])}', not 'WAVE'", Supported);
        }

        var position = 12L;
        var seen = new List<string>();
        Format? format = null;
        long? dataOffset = null;
        long? dataLength = null;
        Span<byte> header = stackalloc byte[8];
        while (format is null || dataOffset is null)
        {
            got = ReadFully(stream, header);
            if (got == 0)
            {
                break;
            }

            if (got < 8)
            {
                throw Fail(name, $"the file ends inside a chunk header after {Listing(seen)}", "the file is cut off; " + Supported);
            }

            var id = Printable(header[..4]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            position += 8;
            seen.Add(id);
            if (id == "fmt ")
            {
                if (size < 16 || size > 1024)
                {
                    throw Fail(name, $"a 'fmt ' chunk of {size} bytes, which is no valid format header (16 to 1024 bytes expected)", "the header is damaged; " + Supported);
                }

                var body = new byte[size + (size & 1)];
                if (ReadFully(stream, body) < size)
                {
                    throw Fail(name, "the file ends inside the 'fmt ' chunk", "the file is cut off; " + Supported);
                }

                format = ParseFormat(body.AsSpan(0, (int)size), name);
                position += body.Length;
            }
            else if (id == "data")
            {
                dataOffset = position;
                dataLength = size == OpenEnded ? null : size;
                if (format is not null)
                {
                    break;
                }

                // The format comes later: skip the samples and come back for them.
                if (!stream.CanSeek || size == OpenEnded)
                {
                    throw Fail(name, "the 'data' chunk comes before the 'fmt ' chunk in a stream that cannot be rewound", Supported);
                }

                position += size + (size & 1);
                if (position > stream.Length)
                {
                    throw Fail(name, "the 'data' chunk comes before the 'fmt ' chunk and the file ends inside it", "the file is cut off; " + Supported);
                }

                stream.Seek(position, SeekOrigin.Begin);
            }
            else
            {
                var skip = (long)size + (size & 1);
                Skip(stream, skip);
                position += skip;
            }
        }

        if (format is null)
        {
            throw Fail(name, $"no 'fmt ' chunk (found {Listing(seen)})", Supported);
        }

        if (dataOffset is null)
        {
            throw Fail(name, $"no 'data' chunk, so no audio (found {Listing(seen)})", Supported);
        }

        if (stream.CanSeek && stream.Position != dataOffset)
        {
            stream.Seek(dataOffset.Value, SeekOrigin.Begin);
        }

        var f = format.Value;
        return new WavLayout(f.Encoding, f.SampleRate, f.Channels, dataOffset.Value, dataLength);
    }

    private static Format ParseFormat(ReadOnlySpan<byte> body, string name)
    {
        var tag = BinaryPrimitives.ReadUInt16LittleEndian(body);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        var blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(body[12..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
        var extensible = tag == FormatExtensible;
        if (extensible)
        {
            if (body.Length < 40)
            {
                throw Fail(name, $"a WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of {body.Length} bytes (40 expected)", Supported);
            }

            // The sub-format GUID starts with the format tag it stands for.
            tag = BinaryPrimitives.ReadUInt16LittleEndian(body[24..]);
        }

        var encoding = (tag, bits) switch
        {
            (FormatPcm, 16) => PcmEncoding.Int16,
            (FormatPcm, 24) => PcmEncoding.Int24,
            (FormatFloat, 32) => PcmEncoding.Float32,
            (FormatPcm, _) => throw Fail(name, $"{bits}-bit{(bits == 32 ? " integer" : string.Empty)} PCM is not supported", "use 16- or 24-bit PCM or 32-bit float"),
            (FormatFloat, _) => throw Fail(name, $"{bits}-bit float is not supported", "use 16- or 24-bit PCM or 32-bit float"),
            _ => throw Fail(name, $"{EncodingName(tag)}{(extensible ? " (in WAVE_FORMAT_EXTENSIBLE)" : string.Empty)} is not supported", "use 16- or 24-bit PCM or 32-bit float"),
        };

        if (channels is < 1 or > 2)
        {
            throw Fail(name, $"{channels} channels are not supported", "use a mono or stereo file (downmix with e.g. ffmpeg -ac 2)");
        }

        if (rate is < 8_000 or > 384_000)
        {
            throw Fail(name, $"a sample rate of {rate} Hz is not supported", "use 8000 to 384000 Hz");
        }

        var expectedAlign = channels * PcmStreamReader.BytesPerSample(encoding);
        if (blockAlign != expectedAlign)
        {
            throw Fail(name, $"a block align of {blockAlign} bytes for {channels} channel(s) of {WavLayout.Describe(encoding)} ({expectedAlign} expected)", "the header is damaged; " + Supported);
        }

        return new Format(encoding, (int)rate, channels);
    }

    private static string EncodingName(ushort tag) => tag switch
    {
        2 => "Microsoft ADPCM (format 2)",
        6 => "A-law (format 6)",
        7 => "mu-law (format 7)",
        0x11 => "IMA ADPCM (format 0x11)",
        0x55 => "MP3 (format 0x55)",
        _ => $"encoding format 0x{tag:X4}",
    };

    private static AudioFormatException Fail(string name, string found, string remedy) => new($"{name}: {found}; {remedy}.");

    private static string Listing(List<string> chunks) => chunks.Count == 0 ? "no chunks" : "chunks " + string.Join(", ", chunks.Select(c => $"'{c}'"));

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
        }

        return text.ToString();
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static void Skip(Stream stream, long count)
    {
        if (stream.CanSeek)
        {
            stream.Seek(count, SeekOrigin.Current);
            return;
        }

        Span<byte> scratch = stackalloc byte[4096];
        while (count > 0)
        {
            var read = stream.Read(scratch[..(int)Math.Min(count, scratch.Length)]);
            if (read == 0)
            {
                return;
            }

            count -= read;
        }
    }

    private readonly record struct Format(PcmEncoding Encoding, int SampleRate, int Channels);
}
