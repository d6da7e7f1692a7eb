using System.Buffers.Binary;
using NAudio.Wave;

namespace CaptionSidecar.Audio;

/// <summary>How one sample of a capture packet is stored.</summary>
internal enum CaptureSampleEncoding
{
    /// <summary>IEEE float, 32 bits, nominally in [-1, 1].</summary>
    Float32,

    /// <summary>Signed integer, 16 bits little-endian.</summary>
    Pcm16,

    /// <summary>Signed integer, 24 bits little-endian packed in 3 bytes.</summary>
    Pcm24,

    /// <summary>Signed integer in a 32-bit container (also 24 valid bits left-justified, as WASAPI delivers them).</summary>
    Pcm32,
}

/// <summary>
/// The layout of the interleaved frames a capture device delivers, read from a Windows <c>WAVEFORMATEX</c> or
/// <c>WAVEFORMATEXTENSIBLE</c> (what <c>IAudioClient::GetMixFormat</c> returns, through NAudio's <see cref="WaveFormat"/>). Platform-neutral so it is tested anywhere.
/// </summary>
/// <param name="Encoding">How each sample is stored.</param>
/// <param name="SampleRate">Frames per second.</param>
/// <param name="Channels">Interleaved channels per frame.</param>
/// <param name="ValidBits">Bits of each sample that carry signal (at most the container size).</param>
internal sealed record CaptureFormat(CaptureSampleEncoding Encoding, int SampleRate, int Channels, int ValidBits)
{
    /// <summary>Size of <c>WAVEFORMATEX</c> without its extra bytes.</summary>
    public const int WaveFormatExSize = 18;

    /// <summary>Size of a whole <c>WAVEFORMATEXTENSIBLE</c> (cbSize 22).</summary>
    public const int WaveFormatExtensibleSize = 40;

    /// <summary>The most channels accepted: the capture path averages them to mono, so wide interfaces work too.</summary>
    public const int MaxChannels = 32;

    private const ushort TagPcm = 0x0001; // WAVE_FORMAT_PCM
    private const ushort TagIeeeFloat = 0x0003; // WAVE_FORMAT_IEEE_FLOAT
    private const ushort TagExtensible = 0xFFFE; // WAVE_FORMAT_EXTENSIBLE

    /// <summary>KSDATAFORMAT_SUBTYPE_PCM (ksmedia.h).</summary>
    public static readonly Guid SubtypePcm = new("00000001-0000-0010-8000-00aa00389b71");

    /// <summary>KSDATAFORMAT_SUBTYPE_IEEE_FLOAT (ksmedia.h).</summary>
    public static readonly Guid SubtypeIeeeFloat = new("00000003-0000-0010-8000-00aa00389b71");

    /// <summary>Bytes of one sample in its container.</summary>
    public int BytesPerSample => Encoding switch
    {
        CaptureSampleEncoding.Pcm16 => 2,
        CaptureSampleEncoding.Pcm24 => 3,
        _ => 4,
    };

    /// <summary>Bytes of one interleaved frame (the format's block align).</summary>
    public int BytesPerFrame => BytesPerSample * Channels;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{SampleRate} Hz, {Channels} ch, {Encoding}{(ValidBits != BytesPerSample * 8 ? $" ({ValidBits} valid bits)" : string.Empty)}";

    /// <summary>
    /// Reads a little-endian <c>WAVEFORMATEX</c> (18 bytes plus cbSize extra bytes; 40 in all for
    /// <c>WAVEFORMATEXTENSIBLE</c>): tag, channels, rate, block align, bits, and for the extensible form the valid
    /// bits and the sub-format GUID.
    /// </summary>
    /// <exception cref="AudioFormatException">The layout is cut short, inconsistent or an encoding the capture path cannot convert.</exception>
    public static CaptureFormat Parse(ReadOnlySpan<byte> waveFormat)
    {
        if (waveFormat.Length < WaveFormatExSize)
        {
            throw new AudioFormatException($"The device's wave format is {waveFormat.Length} bytes; a WAVEFORMATEX has at least {WaveFormatExSize}.");
        }

        var tag = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(waveFormat[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat[14..]);
        int extraSize = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat[16..]);
        var validBits = bits;
        bool isFloat;
        switch (tag)
        {
            case TagPcm:
                isFloat = false;
                break;
            case TagIeeeFloat:
                isFloat = true;
                break;
            case TagExtensible:
                if (extraSize < WaveFormatExtensibleSize - WaveFormatExSize || waveFormat.Length < WaveFormatExtensibleSize)
                {
                    throw new AudioFormatException(
                        $"The device's WAVEFORMATEXTENSIBLE is cut short (cbSize {extraSize}, {waveFormat.Length} bytes; expected cbSize 22 and 40 bytes).");
                }

                validBits = BinaryPrimitives.ReadUInt16LittleEndian(waveFormat[18..]);
                var subFormat = new Guid(waveFormat.Slice(24, 16));
                isFloat = subFormat == SubtypeIeeeFloat
                    ? true
                    : subFormat == SubtypePcm
                        ? false
                        : throw new AudioFormatException(
                            $"The device delivers sub-format {subFormat}, neither PCM nor IEEE float; choose another device or set its format to 24-bit or 16-bit in the Windows sound settings.");
                if (validBits == 0)
                {
                    validBits = bits; // wValidBitsPerSample 0 is allowed and means "all of the container"
                }

                break;
            default:
                throw new AudioFormatException(
                    $"The device delivers wave format tag 0x{tag:X4}, which is neither PCM, IEEE float nor WAVE_FORMAT_EXTENSIBLE; choose another device.");
        }

        var encoding = (isFloat, bits) switch
        {
            (true, 32) => CaptureSampleEncoding.Float32,
            (false, 16) => CaptureSampleEncoding.Pcm16,
            (false, 24) => CaptureSampleEncoding.Pcm24,
            (false, 32) => CaptureSampleEncoding.Pcm32,
            _ => throw new AudioFormatException(
                $"The device delivers {bits}-bit {(isFloat ? "float" : "PCM")} samples; only 32-bit float and 16/24/32-bit PCM are converted. Set the device to 16-bit or 24-bit in the Windows sound settings."),
        };
        if (channels is < 1 or > MaxChannels)
        {
            throw new AudioFormatException($"The device's wave format has {channels} channels; 1 to {MaxChannels} are supported.");
        }

        if (rate is < 8_000 or > 384_000)
        {
            throw new AudioFormatException($"The device's wave format runs at {rate} Hz; 8000 to 384000 Hz are supported.");
        }

        if (validBits < 1 || validBits > bits)
        {
            throw new AudioFormatException($"The device's wave format has {validBits} valid bits in {bits}-bit samples.");
        }

        var format = new CaptureFormat(encoding, (int)rate, channels, validBits);
        return blockAlign == format.BytesPerFrame
            ? format
            : throw new AudioFormatException(
                $"The device's wave format has block align {blockAlign}; {channels} channels of {bits}-bit samples need {format.BytesPerFrame}.");
    }

    /// <summary>
    /// Reads the layout of an NAudio <see cref="WaveFormat"/> (what <c>AudioClient.MixFormat</c> returns): it is
    /// written out as the <c>WAVEFORMATEX</c> bytes Windows handed over and read by <see cref="Parse"/>, so one
    /// decoder checks every format.
    /// </summary>
    /// <exception cref="AudioFormatException">The layout is inconsistent or an encoding the capture path cannot convert.</exception>
    public static CaptureFormat From(WaveFormat waveFormat)
    {
        ArgumentNullException.ThrowIfNull(waveFormat);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            waveFormat.Serialize(writer); // a 4-byte length, then the structure (16 bytes for plain PCM: no cbSize)
        }

        var bytes = buffer.ToArray().AsSpan(4);
        if (bytes.Length < WaveFormatExSize)
        {
            var padded = new byte[WaveFormatExSize]; // PCMWAVEFORMAT: cbSize 0
            bytes.CopyTo(padded);
            bytes = padded;
        }

        return Parse(bytes);
    }

    /// <summary>
    /// The same layout as <paramref name="waveFormat"/> at <paramref name="sampleRate"/> (channel mask, sub-format and
    /// valid bits kept): the format requested with automatic conversion when a reopened device must keep the rate of
    /// the first stream.
    /// </summary>
    public static WaveFormat WithRate(WaveFormat waveFormat, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(waveFormat);
        return waveFormat is WaveFormatExtensible extensible
            ? new WaveFormatExtensible(sampleRate, extensible.BitsPerSample, extensible.Channels, extensible.SubFormat, extensible.ValidBitsPerSample, extensible.ChannelMask)
            : WaveFormat.CreateCustomFormat(waveFormat.Encoding, sampleRate, waveFormat.Channels, sampleRate * waveFormat.BlockAlign, waveFormat.BlockAlign, waveFormat.BitsPerSample);
    }
}
