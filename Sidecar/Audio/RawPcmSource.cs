namespace CaptionSidecar.Audio;

/// <summary>
/// Raw s16le from a stream, such as standard input: it comes at its producer's pace, so it is neither live (nothing is
/// lost when the pipeline waits) nor paced by the pipeline.
/// </summary>
internal sealed class RawPcmSource : IAudioSource
{
    private readonly Stream _stream;
    private readonly PcmStreamReader _reader;

    /// <summary>Reads s16le in <paramref name="format"/> from <paramref name="stream"/>, which it disposes.</summary>
    public RawPcmSource(Stream stream, AudioFormat format, string description)
    {
        _stream = stream;
        Format = format;
        Description = description;
        _reader = new PcmStreamReader(stream, PcmEncoding.Int16, format.Channels);
    }

    /// <summary>Raw s16le on this process's standard input.</summary>
    public static RawPcmSource StandardInput(AudioFormat format) =>
        new(Console.OpenStandardInput(), format, $"stdin (raw s16le, {format})");

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public AudioFormat Format { get; }

    /// <inheritdoc/>
    public bool IsLive => false;

    /// <inheritdoc/>
    public bool CanOutrunRealTime => false;

    /// <inheritdoc/>
    /// <remarks>
    /// Console streams read on a blocked thread and ignore the token, so a silent producer would hold up shutdown:
    /// cancellation abandons the pending read (the source is not read again after that).
    /// </remarks>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken) =>
        await _reader.ReadAsync(buffer, cancellationToken).AsTask().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
