using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// Wave formats as Windows' audio engine hands them out from IAudioClient::GetMixFormat, written out byte by byte
/// (WAVEFORMATEX: tag, channels, rate, avg bytes/s, block align, bits, cbSize; then valid bits, channel mask and the
/// KSDATAFORMAT_SUBTYPE GUID in its little-endian memory layout).
/// </summary>
public sealed class CaptureFormatTests
{
    private const string FloatSubtype = "03 00 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71";
    private const string PcmSubtype = "01 00 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71";

    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static TheoryData<string, string, int, int, int, int> RealLayouts => new()
    {
        // The usual shared-mode mix format: 48 kHz stereo 32-bit float, speaker mask FL|FR.
        { "FE FF 02 00 80 BB 00 00 00 DC 05 00 08 00 20 00 16 00 20 00 03 00 00 00 " + FloatSubtype, nameof(CaptureSampleEncoding.Float32), 48_000, 2, 32, 8 },
        // 44.1 kHz stereo, 24 valid bits in 32-bit containers (PCM).
        { "FE FF 02 00 44 AC 00 00 20 62 05 00 08 00 20 00 16 00 18 00 03 00 00 00 " + PcmSubtype, nameof(CaptureSampleEncoding.Pcm32), 44_100, 2, 24, 8 },
        // 7.1 float at 48 kHz, mask 0x63F.
        { "FE FF 08 00 80 BB 00 00 00 70 17 00 20 00 20 00 16 00 20 00 3F 06 00 00 " + FloatSubtype, nameof(CaptureSampleEncoding.Float32), 48_000, 8, 32, 32 },
        // 5.1 packed 24-bit PCM at 96 kHz, mask 0x3F.
        { "FE FF 06 00 00 77 01 00 00 5E 1A 00 12 00 18 00 16 00 18 00 3F 00 00 00 " + PcmSubtype, nameof(CaptureSampleEncoding.Pcm24), 96_000, 6, 24, 18 },
        // Extensible 16-bit mono PCM with wValidBitsPerSample 0 (means all 16).
        { "FE FF 01 00 80 3E 00 00 00 7D 00 00 02 00 10 00 16 00 00 00 04 00 00 00 " + PcmSubtype, nameof(CaptureSampleEncoding.Pcm16), 16_000, 1, 16, 2 },
        // Plain WAVEFORMATEX, WAVE_FORMAT_PCM 16-bit mono 16 kHz, cbSize 0.
        { "01 00 01 00 80 3E 00 00 00 7D 00 00 02 00 10 00 00 00", nameof(CaptureSampleEncoding.Pcm16), 16_000, 1, 16, 2 },
        // Plain WAVEFORMATEX, WAVE_FORMAT_IEEE_FLOAT stereo 48 kHz.
        { "03 00 02 00 80 BB 00 00 00 DC 05 00 08 00 20 00 00 00", nameof(CaptureSampleEncoding.Float32), 48_000, 2, 32, 8 },
    };

    [Theory]
    [MemberData(nameof(RealLayouts))]
    public void Parse_RealLayout_ReadsEncodingRateChannelsAndValidBits(string hex, string encoding, int rate, int channels, int validBits, int bytesPerFrame)
    {
        var format = CaptureFormat.Parse(Bytes(hex));

        Assert.Equal(Enum.Parse<CaptureSampleEncoding>(encoding), format.Encoding);
        Assert.Equal(rate, format.SampleRate);
        Assert.Equal(channels, format.Channels);
        Assert.Equal(validBits, format.ValidBits);
        Assert.Equal(bytesPerFrame, format.BytesPerFrame);
    }

    [Theory]
    // KSDATAFORMAT_SUBTYPE_ALAW as the sub-format.
    [InlineData("FE FF 01 00 40 1F 00 00 40 1F 00 00 01 00 08 00 16 00 08 00 04 00 00 00 06 00 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71", "sub-format 00000006-0000-0010-8000-00aa00389b71")]
    // WAVE_FORMAT_EXTENSIBLE with cbSize 0.
    [InlineData("FE FF 02 00 80 BB 00 00 00 DC 05 00 08 00 20 00 00 00", "cut short (cbSize 0")]
    // 8-bit unsigned PCM.
    [InlineData("01 00 01 00 40 1F 00 00 40 1F 00 00 01 00 08 00 00 00", "8-bit PCM")]
    // 64-bit float.
    [InlineData("03 00 01 00 80 BB 00 00 00 DC 05 00 08 00 40 00 00 00", "64-bit float")]
    // Block align 6 for stereo 16-bit.
    [InlineData("01 00 02 00 80 BB 00 00 00 EE 02 00 06 00 10 00 00 00", "block align 6")]
    // No channels.
    [InlineData("01 00 00 00 80 BB 00 00 00 00 00 00 00 00 10 00 00 00", "0 channels")]
    // WAVE_FORMAT_MPEGLAYER3.
    [InlineData("55 00 02 00 44 AC 00 00 00 00 00 00 01 00 00 00 00 00", "tag 0x0055")]
    // Cut to 10 bytes.
    [InlineData("FE FF 02 00 80 BB 00 00 00 DC", "10 bytes")]
    // 32 valid bits claimed in 24-bit samples.
    [InlineData("FE FF 02 00 80 BB 00 00 00 65 04 00 06 00 18 00 16 00 20 00 03 00 00 00 01 00 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71", "32 valid bits in 24-bit")]
    public void Parse_UnusableLayout_ThrowsNamingWhatIsWrong(string hex, string expected)
    {
        var ex = Assert.Throws<AudioFormatException>(() => CaptureFormat.Parse(Bytes(hex)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, int, int, int> NAudioFormats => new()
    {
        // What AudioClient.MixFormat usually is: extensible 48 kHz stereo float.
        { "extensible-float", nameof(CaptureSampleEncoding.Float32), 48_000, 2, 32 },
        // 24 valid bits in 32-bit containers, integer PCM.
        { "extensible-24in32", nameof(CaptureSampleEncoding.Pcm32), 44_100, 2, 24 },
        // Plain PCM (NAudio writes the 16-byte PCMWAVEFORMAT, without cbSize).
        { "pcm16", nameof(CaptureSampleEncoding.Pcm16), 16_000, 1, 16 },
        // Plain IEEE float, 6 channels.
        { "float", nameof(CaptureSampleEncoding.Float32), 96_000, 6, 32 },
    };

    private static NAudio.Wave.WaveFormat NAudioFormat(string name) => name switch
    {
        "extensible-float" => new NAudio.Wave.WaveFormatExtensible(48_000, 32, 2),
        "extensible-24in32" => new NAudio.Wave.WaveFormatExtensible(44_100, 32, 2, useIeeeFloat: false, validBitsPerSample: 24, channelMask: 3),
        "pcm16" => new NAudio.Wave.WaveFormat(16_000, 16, 1),
        _ => NAudio.Wave.WaveFormat.CreateIeeeFloatWaveFormat(96_000, 6),
    };

    [Theory]
    [MemberData(nameof(NAudioFormats))]
    public void From_NAudioWaveFormat_ReadsTheSameLayoutAsItsBytes(string name, string encoding, int rate, int channels, int validBits)
    {
        var format = CaptureFormat.From(NAudioFormat(name));

        Assert.Equal(new CaptureFormat(Enum.Parse<CaptureSampleEncoding>(encoding), rate, channels, validBits), format);
    }

    [Fact]
    public void From_NAudioFormatTheCapturePathCannotConvert_ThrowsNamingIt()
    {
        var ex = Assert.Throws<AudioFormatException>(() => CaptureFormat.From(NAudio.Wave.WaveFormat.CreateALawFormat(8_000, 1)));

        Assert.Contains("tag 0x0006", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithRate_Extensible_KeepsSubFormatValidBitsAndChannelMask()
    {
        var mix = new NAudio.Wave.WaveFormatExtensible(44_100, 32, 6, useIeeeFloat: false, validBitsPerSample: 24, channelMask: 0x3F);

        var changed = Assert.IsType<NAudio.Wave.WaveFormatExtensible>(CaptureFormat.WithRate(mix, 48_000));

        Assert.Equal((48_000, 6, 32, 24, 0x3F, mix.SubFormat), (changed.SampleRate, changed.Channels, changed.BitsPerSample, changed.ValidBitsPerSample, changed.ChannelMask, changed.SubFormat));
        Assert.Equal(48_000 * 24, changed.AverageBytesPerSecond);
        Assert.Equal(new CaptureFormat(CaptureSampleEncoding.Pcm32, 48_000, 6, 24), CaptureFormat.From(changed));
    }

    [Fact]
    public void WithRate_PlainFloat_ChangesRateAndByteRateOnly()
    {
        var changed = CaptureFormat.WithRate(NAudio.Wave.WaveFormat.CreateIeeeFloatWaveFormat(44_100, 2), 48_000);

        Assert.Equal((NAudio.Wave.WaveFormatEncoding.IeeeFloat, 48_000, 2, 8, 32, 384_000), (changed.Encoding, changed.SampleRate, changed.Channels, changed.BlockAlign, changed.BitsPerSample, changed.AverageBytesPerSecond));
    }
}
