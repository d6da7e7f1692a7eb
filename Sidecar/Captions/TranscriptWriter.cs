using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Captions;

/// <summary>
/// Writes each language's final turns to <c>&lt;start&gt;-&lt;lang&gt;.srt</c>, <c>.vtt</c> and <c>.jsonl</c> in
/// <see cref="CaptionOptions.TranscriptDirectory"/>, one whole cue per write, flushed to disk at once, so a
/// killed process loses at most the text that was not final yet.
/// </summary>
/// <remarks>
/// <para>A named speaker's cue is labelled in each file: SRT <c>Name: text</c>, WebVTT a voice span
/// <c>&lt;v Name&gt;text&lt;/v&gt;</c>, JSONL a <c>speaker</c> field. Every cue carries its label (a player may show
/// any cue alone); the unnamed speaker's cues are written exactly as before speakers existed.</para>
/// <para>Files are opened on a language's first final turn (no empty files) and never truncated: a name already
/// taken (a restart within the same second) gets <c>-2</c>, <c>-3</c>… after the start time.</para>
/// <para>A write that fails (disk full, folder read-only) throws an <see cref="IOException"/> naming the folder and
/// closes the language's files; the dispatcher retries the update with backoff. The next attempt reopens the files
/// cut back to their last whole cue (a failed write may have left part of one) and writes the cue again, and
/// turns already written by an earlier attempt are skipped, so files never hold a partial or repeated cue.</para>
/// </remarks>
internal sealed partial class TranscriptWriter : ICaptionSink, IAsyncDisposable, IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private static readonly byte[] VttHeader = "WEBVTT\n\n"u8.ToArray();

    private readonly string _directory;
    private readonly int _maxCharactersPerLine;
    private readonly string _prefix;
    private readonly ITranscriptStorage _storage;
    private readonly ILogger<TranscriptWriter> _logger;
    private readonly Dictionary<string, LanguageState> _languages = new(StringComparer.Ordinal);

    // One caller at a time is the dispatcher's promise; the gate also covers disposal at host shutdown.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public TranscriptWriter(IOptions<CaptionOptions> options, TimeProvider time, ILogger<TranscriptWriter> logger)
        : this(options, time, logger, FileTranscriptStorage.Instance)
    {
    }

    /// <summary>Writes through <paramref name="storage"/> (a failing fake in tests).</summary>
    internal TranscriptWriter(IOptions<CaptionOptions> options, TimeProvider time, ILogger<TranscriptWriter> logger, ITranscriptStorage storage)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(storage);
        var directory = options.Value.TranscriptDirectory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ArgumentException($"{CaptionOptions.Section}:{nameof(CaptionOptions.TranscriptDirectory)} is empty; set it (--transcript-dir) to write transcripts.", nameof(options));
        }

        _directory = Path.GetFullPath(directory);
        _maxCharactersPerLine = options.Value.MaxCharactersPerLine;
        _prefix = time.GetLocalNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        _storage = storage;
        _logger = logger;
    }

    public string Name => "transcripts";

    public async ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Finalized.Count == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var item in update.Finalized)
            {
                await WriteItemAsync(item, update.Timestamp, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_languages.Remove(language, out var state))
            {
                await CloseAsync(language, state);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            foreach (var (language, state) in _languages)
            {
                await CloseAsync(language, state);
            }

            _languages.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes every open transcript; for a container disposed synchronously.</summary>
    public void Dispose()
    {
        _gate.Wait();
        try
        {
            foreach (var (language, state) in _languages)
            {
                state.CloseFiles();
                LogClosed(language, state.Cues);
            }

            _languages.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WriteItemAsync(CaptionItem item, DateTimeOffset wallTime, CancellationToken cancellationToken)
    {
        if (!_languages.TryGetValue(item.Language, out var state))
        {
            state = new LanguageState();
            _languages[item.Language] = state;
        }

        if (item.Index <= state.LastIndex)
        {
            // Written by an earlier attempt at this update, before a later item of it failed.
            return;
        }

        var text = string.Join(' ', item.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0)
        {
            // An empty cue would end the SRT block early and confuse players; nothing was said.
            state.LastIndex = item.Index;
            return;
        }

        var (start, end) = SubtitleFormat.CueTimes(item.Start, item.End, state.PreviousStart);
        var number = state.Cues + 1;
        // A named speaker's cue is labelled: SRT shows "Name: text" (wrapped as one text, so the label counts
        // against the line length); WebVTT wraps the text in a voice span, which players may show or style.
        var speaker = item.Speaker is { } label ? string.Join(' ', label.Name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) : null;
        if (speaker?.Length == 0)
        {
            speaker = null; // a blank name labels nothing
        }

        var srtLines = SubtitleFormat.Wrap(speaker is null ? text : speaker + ": " + text, _maxCharactersPerLine);
        var vttLines = SubtitleFormat.Wrap(text, _maxCharactersPerLine).Select(SubtitleFormat.EscapeVtt);
        var srt = new StringBuilder()
            .Append(number.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(SubtitleFormat.SrtTime(start)).Append(" --> ").Append(SubtitleFormat.SrtTime(end)).Append('\n')
            .AppendJoin('\n', srtLines).Append("\n\n");
        var vtt = new StringBuilder()
            .Append(SubtitleFormat.VttTime(start)).Append(" --> ").Append(SubtitleFormat.VttTime(end)).Append('\n');
        if (speaker is null)
        {
            vtt.AppendJoin('\n', vttLines);
        }
        else
        {
            vtt.Append("<v ").Append(SubtitleFormat.EscapeVttAnnotation(speaker)).Append('>').AppendJoin('\n', vttLines).Append("</v>");
        }

        vtt.Append("\n\n");
        var json = JsonSerializer.Serialize(
            new TranscriptLine(item.Index, item.Language, item.ItemId, SubtitleFormat.Milliseconds(item.Start), SubtitleFormat.Milliseconds(item.End), text, wallTime, speaker),
            TranscriptJsonContext.Relaxed.TranscriptLine) + "\n";
        byte[][] cue = [Utf8.GetBytes(srt.ToString()), Utf8.GetBytes(vtt.ToString()), Utf8.GetBytes(json)];

        try
        {
            var files = state.Files ?? Open(item.Language, state);
            for (var i = 0; i < files.Length; i++)
            {
                // One write per cue and file: a reader (or a crash) sees whole cues. Streams are unbuffered.
                await files[i].WriteAsync(cue[i], cancellationToken);
                await files[i].FlushAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // The next attempt reopens the files at their last whole cue.
            state.CloseFiles();
            throw new IOException($"Cannot write the {item.Language} transcript in '{_directory}': {ex.Message} The line waits and is retried; check the disk and the folder's permissions, or choose another folder with --transcript-dir.", ex);
        }

        for (var i = 0; i < cue.Length; i++)
        {
            state.Lengths[i] += cue[i].Length;
        }

        state.Cues = number;
        state.PreviousStart = start;
        state.LastIndex = item.Index;
    }

    /// <summary>Opens the language's files: new ones on its first line, else the existing ones cut back to their last whole cue.</summary>
    private Stream[] Open(string language, LanguageState state)
    {
        if (state.Paths is { } paths)
        {
            var reopened = new List<Stream>(3);
            try
            {
                for (var i = 0; i < paths.Length; i++)
                {
                    reopened.Add(_storage.OpenAt(paths[i], state.Lengths[i]));
                }
            }
            catch
            {
                reopened.ForEach(s => s.Dispose());
                throw;
            }

            state.Files = [.. reopened];
            LogReopened(language, paths[0]);
            return state.Files;
        }

        _storage.CreateDirectory(_directory);
        for (var attempt = 1; ; attempt++)
        {
            var stem = attempt == 1 ? $"{_prefix}-{language}" : $"{_prefix}-{attempt.ToString(CultureInfo.InvariantCulture)}-{language}";
            string[] candidates = [.. new[] { ".srt", ".vtt", ".jsonl" }.Select(ext => Path.Combine(_directory, stem + ext))];
            if (!candidates.Any(_storage.Exists))
            {
                state.Files = Create(candidates);
                state.Paths = candidates;
                state.Lengths = [0, VttHeader.Length, 0];
                LogOpened(language, candidates[0]);
                return state.Files;
            }
        }
    }

    /// <summary>Creates the three files (the VTT with its header); on failure removes the ones made, so a retry reuses the names.</summary>
    private Stream[] Create(string[] paths)
    {
        var created = new List<(string Path, Stream Stream)>(3);
        try
        {
            foreach (var path in paths)
            {
                created.Add((path, _storage.CreateNew(path)));
            }

            created[1].Stream.Write(VttHeader);
            created[1].Stream.Flush();
            return [.. created.Select(c => c.Stream)];
        }
        catch
        {
            foreach (var (path, stream) in created)
            {
                stream.Dispose();
                _storage.TryDelete(path);
            }

            throw;
        }
    }

    private async Task CloseAsync(string language, LanguageState state)
    {
        if (state.Paths is not null)
        {
            await state.CloseFilesAsync();
            LogClosed(language, state.Cues);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transcript for {Language} started: {SrtPath} (.vtt, .jsonl beside it)")]
    private partial void LogOpened(string language, string srtPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transcript for {Language} can be written again: {SrtPath} continues")]
    private partial void LogReopened(string language, string srtPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transcript for {Language} closed after {Cues} lines")]
    private partial void LogClosed(string language, int cues);

    private sealed class LanguageState
    {
        /// <summary>The .srt, .vtt and .jsonl paths, once created.</summary>
        public string[]? Paths { get; set; }

        /// <summary>The open files, or null after a failure (or before the first line).</summary>
        public Stream[]? Files { get; set; }

        /// <summary>Bytes of each file up to its last whole cue.</summary>
        public long[] Lengths { get; set; } = [0, 0, 0];

        public int Cues { get; set; }

        /// <summary>The last item written (or skipped as empty): a retried update does not write it twice.</summary>
        public int LastIndex { get; set; }

        public TimeSpan PreviousStart { get; set; }

        public void CloseFiles()
        {
            foreach (var file in Files ?? [])
            {
                try
                {
                    file.Dispose();
                }
                catch (IOException)
                {
                    // Nothing is buffered; a failing disk may still refuse the close.
                }
            }

            Files = null;
        }

        public async ValueTask CloseFilesAsync()
        {
            foreach (var file in Files ?? [])
            {
                try
                {
                    await file.DisposeAsync();
                }
                catch (IOException)
                {
                    // Nothing is buffered; a failing disk may still refuse the close.
                }
            }

            Files = null;
        }
    }
}

/// <summary>Where transcripts are kept: the file system, or a fake that fails on demand in tests.</summary>
internal interface ITranscriptStorage
{
    /// <summary>Creates the folder (and its parents) when missing.</summary>
    void CreateDirectory(string path);

    /// <summary>Whether a file or folder of that name exists.</summary>
    bool Exists(string path);

    /// <summary>A new, empty file for writing; never truncates an existing one. Others may read it meanwhile.</summary>
    Stream CreateNew(string path);

    /// <summary>An existing file for writing after its first <paramref name="length"/> bytes; anything after them is cut off.</summary>
    Stream OpenAt(string path, long length);

    /// <summary>Deletes a file if it can (cleaning up after a failed create).</summary>
    void TryDelete(string path);
}

/// <summary>Transcripts on the file system: unbuffered, write-through files.</summary>
internal sealed class FileTranscriptStorage : ITranscriptStorage
{
    public static FileTranscriptStorage Instance { get; } = new();

    public void CreateDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"the folder cannot be created ({ex.Message})", ex);
        }
    }

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public Stream CreateNew(string path) => Open(path, FileMode.CreateNew);

    public Stream OpenAt(string path, long length)
    {
        var file = Open(path, FileMode.Open);
        try
        {
            if (file.Length != length)
            {
                file.SetLength(length);
            }

            file.Seek(length, SeekOrigin.Begin);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next attempt picks the next free name.
        }
    }

    private static FileStream Open(string path, FileMode mode) => new(path, new FileStreamOptions
    {
        Mode = mode,
        Access = FileAccess.Write,
        Share = FileShare.Read,
        BufferSize = 0,
        Options = FileOptions.WriteThrough | FileOptions.Asynchronous,
    });
}
