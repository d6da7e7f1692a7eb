using System.Buffers.Binary;

namespace CaptionSidecar.Audio;

/// <summary>How the samples of a PCM stream are stored.</summary>
internal enum PcmEncoding
{
    /// <summary>Signed 16-bit little-endian integers.</summary>
    Int16,

    /// <summary>Signed 24-bit little-endian integers (three bytes).</summary>
    Int24,

    /// <summary>IEEE 754 32-bit little-endian floats.</summary>
    Float32,
}

/// <summary>
/// Reads interleaved PCM from a byte stream (a WAV data chunk, stdin, a command's stdout) as float samples in whole
/// frames. Reads may end anywhere, even inside a sample: the bytes of an incomplete frame wait for the next read.
/// </summary>
internal sealed class PcmStreamReader
{
    private readonly Stream _stream;
    private readonly PcmEncoding _encoding;
    private readonly int _bytesPerSample;
    private readonly int _frameBytes;
    private readonly int _channels;
    private long _remaining;
    private byte[] _bytes = [];
    private int _carried;

    /// <summary>Reads from <paramref name="stream"/>, at most <paramref name="byteLimit"/> bytes (null: to its end).</summary>
    public PcmStreamReader(Stream stream, PcmEncoding encoding, int channels, long? byteLimit = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        _stream = stream;
        _encoding = encoding;
        _channels = channels;
        _bytesPerSample = BytesPerSample(encoding);
        _frameBytes = _bytesPerSample * channels;
        _remaining = byteLimit ?? long.MaxValue;
    }

    /// <summary>True when the stream ended before the byte limit given at construction (a cut-off recording).</summary>
    public bool EndedEarly { get; private set; }

    /// <summary>Bytes of an incomplete last frame that were dropped at the end of the stream.</summary>
    public int DroppedTailBytes { get; private set; }

    /// <summary>Bytes in one sample of <paramref name="encoding"/>.</summary>
    public static int BytesPerSample(PcmEncoding encoding) => encoding switch
    {
        PcmEncoding.Int16 => 2,
        PcmEncoding.Int24 => 3,
        _ => 4,
    };

    /// <summary>Reads whole frames into <paramref name="buffer"/>; returns the sample count, 0 at the end.</summary>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        var frames = buffer.Length / _channels;
        if (frames == 0)
        {
            throw new ArgumentException($"The buffer must hold at least one frame ({_channels} samples).", nameof(buffer));
        }

        var wanted = frames * _frameBytes;
        if (_remaining != long.MaxValue)
        {
            wanted = (int)Math.Min(wanted, _remaining + _carried);
        }

        if (_bytes.Length < wanted)
        {
            var carried = _bytes.AsSpan(0, _carried).ToArray();
            _bytes = new byte[wanted];
            carried.CopyTo(_bytes, 0);
        }

        var filled = _carried;
        while (filled < _frameBytes && _remaining > 0)
        {
            var toRead = (int)Math.Min(wanted - filled, _remaining);
            var read = await _stream.ReadAsync(_bytes.AsMemory(filled, toRead), cancellationToken);
            if (read == 0)
            {
                EndedEarly = _remaining != long.MaxValue && _remaining > 0;
                _remaining = 0;
                break;
            }

            filled += read;
            if (_remaining != long.MaxValue)
            {
                _remaining -= read;
            }
        }

        var wholeFrames = filled / _frameBytes;
        var used = wholeFrames * _frameBytes;
        _carried = filled - used;
        if (wholeFrames == 0)
        {
            DroppedTailBytes = _carried;
            _carried = 0;
            return 0;
        }

        Decode(_bytes.AsSpan(0, used), buffer.Span);
        _bytes.AsSpan(used, _carried).CopyTo(_bytes);
        return wholeFrames * _channels;
    }

    /// <summary>Converts little-endian samples to floats in [-1, 1] (non-finite floats become silence).</summary>
    public void Decode(ReadOnlySpan<byte> bytes, Span<float> samples)
    {
        var count = bytes.Length / _bytesPerSample;
        switch (_encoding)
        {
            case PcmEncoding.Int16:
                for (var i = 0; i < count; i++)
                {
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]) * (1f / 32768f);
                }

                break;
            case PcmEncoding.Int24:
                for (var i = 0; i < count; i++)
                {
                    var b = bytes.Slice(3 * i, 3);
                    var value = (b[0] | (b[1] << 8) | (b[2] << 16)) << 8 >> 8; // sign-extend from 24 bits
                    samples[i] = value * (1f / 8388608f);
                }

                break;
            default:
                for (var i = 0; i < count; i++)
                {
                    var value = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                    samples[i] = float.IsFinite(value) ? value : 0f;
                }

                break;
        }
    }
}
