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
/// <para>Files are opened on a language's first final turn (no empty files) and never truncated: a name already
/// taken (a restart within the same second) gets <c>-2</c>, <c>-3</c>… after the start time.</para>
/// <para>A language whose files cannot be opened or written fails once with an <see cref="IOException"/> naming
/// the folder (the dispatcher logs it); its later lines are counted and reported when the language closes, and
/// the other languages go on.</para>
/// </remarks>
internal sealed partial class TranscriptWriter : ICaptionSink, IAsyncDisposable, IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly string _directory;
    private readonly int _maxCharactersPerLine;
    private readonly string _prefix;
    private readonly ILogger<TranscriptWriter> _logger;
    private readonly Dictionary<string, LanguageState> _languages = new(StringComparer.Ordinal);

    // One caller at a time is the dispatcher's promise; the gate also covers disposal at host shutdown.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public TranscriptWriter(IOptions<CaptionOptions> options, TimeProvider time, ILogger<TranscriptWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var directory = options.Value.TranscriptDirectory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ArgumentException($"{CaptionOptions.Section}:{nameof(CaptionOptions.TranscriptDirectory)} is empty; set it (--transcript-dir) to write transcripts.", nameof(options));
        }

        _directory = Path.GetFullPath(directory);
        _maxCharactersPerLine = options.Value.MaxCharactersPerLine;
        _prefix = time.GetLocalNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
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
                state.Files?.Dispose();
                state.Files = null;
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
        var text = string.Join(' ', item.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0)
        {
            // An empty cue would end the SRT block early and confuse players; nothing was said.
            return;
        }

        if (!_languages.TryGetValue(item.Language, out var state))
        {
            state = new LanguageState();
            _languages[item.Language] = state;
            var opened = Open(item.Language);
            state.Files = opened;
            LogOpened(item.Language, opened.Srt.Name);
        }

        if (state.Files is not { } files)
        {
            state.Missed++;
            return;
        }

        var (start, end) = SubtitleFormat.CueTimes(item.Start, item.End, state.PreviousStart);
        state.PreviousStart = start;
        state.Cues++;
        var lines = SubtitleFormat.Wrap(text, _maxCharactersPerLine);
        var srt = new StringBuilder()
            .Append(state.Cues.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(SubtitleFormat.SrtTime(start)).Append(" --> ").Append(SubtitleFormat.SrtTime(end)).Append('\n')
            .AppendJoin('\n', lines).Append("\n\n");
        var vtt = new StringBuilder()
            .Append(SubtitleFormat.VttTime(start)).Append(" --> ").Append(SubtitleFormat.VttTime(end)).Append('\n')
            .AppendJoin('\n', lines.Select(SubtitleFormat.EscapeVtt)).Append("\n\n");
        var json = JsonSerializer.Serialize(
            new TranscriptLine(item.Index, item.Language, item.ItemId, SubtitleFormat.Milliseconds(item.Start), SubtitleFormat.Milliseconds(item.End), text, wallTime),
            TranscriptJsonContext.Relaxed.TranscriptLine) + "\n";

        try
        {
            await AppendAsync(files.Srt, srt.ToString(), cancellationToken);
            await AppendAsync(files.Vtt, vtt.ToString(), cancellationToken);
            await AppendAsync(files.Jsonl, json, cancellationToken);
        }
        catch (IOException ex)
        {
            state.Files = null;
            await files.DisposeAsync();
            throw new IOException($"Cannot write the {item.Language} transcript in '{_directory}': {ex.Message} Its later lines are not recorded; check the disk and the folder's permissions.", ex);
        }
    }

    private LanguageFiles Open(string language)
    {
        try
        {
            Directory.CreateDirectory(_directory);
            for (var attempt = 1; ; attempt++)
            {
                var stem = attempt == 1 ? $"{_prefix}-{language}" : $"{_prefix}-{attempt.ToString(CultureInfo.InvariantCulture)}-{language}";
                var paths = new[] { ".srt", ".vtt", ".jsonl" }.Select(ext => Path.Combine(_directory, stem + ext)).ToArray();
                if (!paths.Any(File.Exists))
                {
                    return LanguageFiles.Create(paths[0], paths[1], paths[2]);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new IOException($"Cannot write the {language} transcript: the folder '{_directory}' cannot be created or written ({ex.Message}). Choose a writable folder with --transcript-dir ({CaptionOptions.Section}:{nameof(CaptionOptions.TranscriptDirectory)}).", ex);
        }
    }

    private static async Task AppendAsync(FileStream file, string text, CancellationToken cancellationToken)
    {
        // One write per cue: a reader (or a crash) sees whole cues. The stream is unbuffered and write-through.
        await file.WriteAsync(Utf8.GetBytes(text), cancellationToken);
    }

    private async Task CloseAsync(string language, LanguageState state)
    {
        if (state.Files is { } files)
        {
            await files.DisposeAsync();
            state.Files = null;
            LogClosed(language, state.Cues);
        }

        if (state.Missed > 0)
        {
            LogMissed(language, state.Missed, _directory);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transcript for {Language} started: {SrtPath} (.vtt, .jsonl beside it)")]
    private partial void LogOpened(string language, string srtPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transcript for {Language} closed after {Cues} lines")]
    private partial void LogClosed(string language, int cues);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transcript for {Language} missed {Missed} lines because {Directory} could not be written")]
    private partial void LogMissed(string language, int missed, string directory);

    private sealed class LanguageState
    {
        public LanguageFiles? Files { get; set; }

        public int Cues { get; set; }

        public int Missed { get; set; }

        public TimeSpan PreviousStart { get; set; }
    }

    private sealed class LanguageFiles(FileStream srt, FileStream vtt, FileStream jsonl) : IAsyncDisposable, IDisposable
    {
        public FileStream Srt { get; } = srt;

        public FileStream Vtt { get; } = vtt;

        public FileStream Jsonl { get; } = jsonl;

        public static LanguageFiles Create(string srtPath, string vttPath, string jsonlPath)
        {
            var opened = new List<FileStream>(3);
            try
            {
                foreach (var path in new[] { srtPath, vttPath, jsonlPath })
                {
                    // CreateNew: an existing transcript is never truncated. Others may read while we write.
                    opened.Add(new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        Share = FileShare.Read,
                        BufferSize = 0,
                        Options = FileOptions.WriteThrough | FileOptions.Asynchronous,
                    }));
                }

                opened[1].Write("WEBVTT\n\n"u8);
                return new LanguageFiles(opened[0], opened[1], opened[2]);
            }
            catch (Exception)
            {
                foreach (var file in opened)
                {
                    file.Dispose();
                }

                throw;
            }
        }

        public void Dispose()
        {
            Srt.Dispose();
            Vtt.Dispose();
            Jsonl.Dispose();
        }

        public async ValueTask DisposeAsync()
        {
            await Srt.DisposeAsync();
            await Vtt.DisposeAsync();
            await Jsonl.DisposeAsync();
        }
    }
}
