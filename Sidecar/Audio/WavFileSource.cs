namespace CaptionSidecar.Audio;

/// <summary>
/// A WAV file (see <see cref="WavReader"/> for what it accepts). A data chunk shorter than its header declares (a
/// recording that was cut off) plays what is there, with one warning.
/// </summary>
internal sealed partial class WavFileSource : IAudioSource
{
    private readonly FileStream _file;
    private readonly PcmStreamReader _reader;
    private readonly ILogger _logger;
    private readonly string _path;
    private bool _warnedShort;

    /// <summary>
    /// Opens <paramref name="path"/> and reads its header on a dedicated thread: a FIFO blocks in open(2) until
    /// something writes to it, and cancellation must still end the wait at once.
    /// </summary>
    /// <exception cref="AudioFormatException">The file is not a WAV file this source can read.</exception>
    /// <exception cref="IOException">The file cannot be opened, or the path is a folder.</exception>
    public static Task<WavFileSource> OpenAsync(string path, ILogger<WavFileSource> logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new IOException($"{Path.GetFullPath(path)} is a folder, not a WAV file: give the file itself (--input file:PATH).");
        }

        return BlockingOpen.RunAsync(() => new WavFileSource(path, logger), static source => source._file.Dispose(), "WAV input open", cancellationToken);
    }

    /// <summary>Opens <paramref name="path"/> and reads its header (may block for good on a FIFO: see <see cref="OpenAsync"/>).</summary>
    /// <exception cref="AudioFormatException">The file is not a WAV file this source can read.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    internal WavFileSource(string path, ILogger<WavFileSource> logger)
    {
        _path = path;
        _logger = logger;
        try
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"{Path.GetFullPath(path)}: the file cannot be opened ({ex.Message}).", ex);
        }

        try
        {
            Layout = WavReader.ReadHeader(_file, path);
        }
        catch
        {
            _file.Dispose();
            throw;
        }

        Format = new AudioFormat(Layout.SampleRate, Layout.Channels);
        _reader = new PcmStreamReader(_file, Layout.Encoding, Layout.Channels, Layout.DataLength);
    }

    /// <summary>The file's encoding and where its samples are.</summary>
    public WavLayout Layout { get; }

    /// <inheritdoc/>
    public string Description => $"WAV file {_path} ({Layout})";

    /// <inheritdoc/>
    public AudioFormat Format { get; }

    /// <inheritdoc/>
    public bool IsLive => false;

    /// <inheritdoc/>
    public bool CanOutrunRealTime => true;

    /// <inheritdoc/>
    /// <remarks>
    /// A FIFO (not seekable) is read by a blocking read that ignores the token: when its writer stalls, cancellation
    /// abandons the pending read (the source is not read again after that), so stopping never waits on the writer.
    /// </remarks>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        var read = _file.CanSeek
            ? await _reader.ReadAsync(buffer, cancellationToken)
            : await _reader.ReadAsync(buffer, cancellationToken).AsTask().WaitAsync(cancellationToken);
        if (read == 0 && _reader.EndedEarly && !_warnedShort)
        {
            _warnedShort = true;
            LogCutOff(_path, Layout.DataLength ?? 0, _file.Length - Layout.DataOffset);
        }

        return read;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _file.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: the data chunk declares {Declared} bytes but the file holds {Present}; the recording seems cut off, playing what is there")]
    private partial void LogCutOff(string path, long declared, long present);
}
