using System.Text.RegularExpressions;
using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Languages;

/// <summary>What runs a caption language: the pipeline, once its audio path is ready.</summary>
internal interface ILanguageRunner
{
    /// <summary>Starts the track and outputs of <paramref name="language"/>. False when nothing can start any more (the input ended).</summary>
    bool TryStart(CaptionLanguage language);

    /// <summary>Stops the track of <paramref name="code"/> if it runs and waits until its session and outputs are closed.</summary>
    Task StopAsync(string code, CancellationToken cancellationToken);

    /// <summary>True while a track of <paramref name="code"/> runs.</summary>
    bool IsRunning(string code);
}

/// <summary>A caption language the sidecar knows and whether moderators want it on.</summary>
internal sealed record LanguageSelection(CaptionLanguage Language, string Name, bool Enabled);

/// <summary>The result of asking for a language to be turned on or off.</summary>
internal enum LanguageChange
{
    /// <summary>The code is not a caption language the sidecar knows.</summary>
    Unknown,

    /// <summary>The language is now in the state asked for (it may already have been).</summary>
    Applied,
}

/// <summary>
/// The one service that decides which caption languages run: the source transcription and the translation
/// targets. The control API, the control page, the tray and the command line (<c>--languages</c>) all go through
/// it. A change is remembered at once (and saved, so it survives a restart) and then applied by starting or
/// stopping that language's track; changes to one language are applied one at a time and always converge on the
/// last one asked for, so rapid toggling never runs two sessions for one language.
/// </summary>
internal sealed partial class LanguageSwitchboard
{
    private static readonly Regex CodePattern = LanguageCode();

    private readonly Lock _gate = new();
    private readonly List<CaptionLanguage> _catalog;
    private readonly Dictionary<string, bool> _wanted = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SemaphoreSlim> _applying = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILanguageChoiceStore _file;
    private readonly SemaphoreSlim _saving = new(1, 1);
    private readonly ILogger<LanguageSwitchboard> _logger;
    private ILanguageRunner? _runner;

    public LanguageSwitchboard(IOptions<LanguageOptions> options, IOptions<RealtimeOptions> realtime, DataFolders folders, ILogger<LanguageSwitchboard> logger)
        : this(options, realtime, new LanguageChoiceFile(StatePath(options, folders), logger), logger)
    {
    }

    /// <summary>A switchboard that keeps the choice in <paramref name="store"/> (tests give a fake).</summary>
    internal LanguageSwitchboard(IOptions<LanguageOptions> options, IOptions<RealtimeOptions> realtime, ILanguageChoiceStore store, ILogger<LanguageSwitchboard> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(realtime);
        _logger = logger;
        var settings = options.Value;
        Source = new CaptionLanguage(realtime.Value.Language, IsSource: true);
        _file = store;

        var configured = settings.Enabled is { } enabled ? ParseCodes(enabled) : null;
        var saved = configured is null ? _file.Load() : null;
        var startTargets = configured ?? saved?.Targets.Where(c => CodePattern.IsMatch(c)).ToList() ?? [];
        var targets = ParseCodes(settings.Available ?? LanguageOptions.DefaultAvailable).Concat(startTargets)
            .Where(c => !string.Equals(c, Source.Code, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        _catalog = [Source, .. targets.Select(c => new CaptionLanguage(c, IsSource: false))];
        foreach (var language in _catalog)
        {
            _wanted[language.Code] = language.IsSource
                ? saved?.Source ?? true
                : startTargets.Contains(language.Code, StringComparer.OrdinalIgnoreCase);
        }

        if (saved is not null)
        {
            LogRestored(string.Join(", ", Enabled.Select(l => l.Code)), _file.Path);
        }
    }

    private static string StatePath(IOptions<LanguageOptions> options, DataFolders folders)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(folders);
        var file = options.Value.StateFile;
        return string.IsNullOrWhiteSpace(file) ? Path.Combine(folders.Root, "languages.json") : Path.GetFullPath(file);
    }

    /// <summary>The source (spoken) language.</summary>
    public CaptionLanguage Source { get; }

    /// <summary>Every caption language the sidecar knows, source first, and whether it is wanted on.</summary>
    public IReadOnlyList<LanguageSelection> Languages
    {
        get
        {
            lock (_gate)
            {
                return [.. _catalog.Select(l => new LanguageSelection(l, DisplayName(l), _wanted[l.Code]))];
            }
        }
    }

    /// <summary>The languages wanted on, source first.</summary>
    public IReadOnlyList<CaptionLanguage> Enabled
    {
        get
        {
            lock (_gate)
            {
                return [.. _catalog.Where(l => _wanted[l.Code])];
            }
        }
    }

    /// <summary>
    /// Connects the runner (the pipeline, once its audio path exists) and starts every language wanted on. Called
    /// once, before audio flows, so a file input is never read ahead of a track that must hear it.
    /// </summary>
    public void Attach(ILanguageRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        List<CaptionLanguage> start;
        lock (_gate)
        {
            if (_runner is not null)
            {
                throw new InvalidOperationException("The switchboard already has a runner.");
            }

            _runner = runner;
            start = [.. _catalog.Where(l => _wanted[l.Code])];
        }

        foreach (var language in start)
        {
            runner.TryStart(language);
        }
    }

    /// <summary>
    /// Turns <paramref name="code"/> on or off: remembers and saves the choice, then starts or stops its track and
    /// returns once the language is in the state asked for last (or the pipeline cannot start anything any more).
    /// </summary>
    public async Task<LanguageChange> SetEnabledAsync(string code, bool enabled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        CaptionLanguage? language;
        SemaphoreSlim applying;
        lock (_gate)
        {
            language = _catalog.Find(l => string.Equals(l.Code, code, StringComparison.OrdinalIgnoreCase));
            if (language is null)
            {
                return LanguageChange.Unknown;
            }

            _wanted[language.Code] = enabled;
            if (!_applying.TryGetValue(language.Code, out applying!))
            {
                applying = new SemaphoreSlim(1, 1);
                _applying[language.Code] = applying;
            }
        }

        await SaveAsync();
        await applying.WaitAsync(cancellationToken);
        try
        {
            await ApplyAsync(language, cancellationToken);
        }
        finally
        {
            applying.Release();
        }

        return LanguageChange.Applied;
    }

    /// <summary>
    /// Saves the choice as it is when this save's turn comes, not as it was when it was asked for: saves run one at
    /// a time, so the last one to run writes the latest choice however quick toggles interleave. Not cancellable: a
    /// change once recorded is always saved (a save takes milliseconds).
    /// </summary>
    private async Task SaveAsync()
    {
        await _saving.WaitAsync(CancellationToken.None);
        try
        {
            LanguageChoice latest;
            lock (_gate)
            {
                latest = new LanguageChoice(_wanted[Source.Code], [.. _catalog.Where(l => !l.IsSource && _wanted[l.Code]).Select(l => l.Code)]);
            }

            _file.Save(latest);
        }
        finally
        {
            _saving.Release();
        }
    }

    /// <summary>
    /// Brings the track of <paramref name="language"/> to the state wanted now. Every caller applies once under the
    /// language's lock, so the last change asked for is the last one applied.
    /// </summary>
    private async Task ApplyAsync(CaptionLanguage language, CancellationToken cancellationToken)
    {
        bool wanted;
        ILanguageRunner? runner;
        lock (_gate)
        {
            wanted = _wanted[language.Code];
            runner = _runner;
        }

        if (runner is null || wanted == runner.IsRunning(language.Code))
        {
            return; // Not attached yet (Attach starts what is wanted), or already as wanted.
        }

        if (wanted)
        {
            if (runner.TryStart(language))
            {
                LogTurned(language.Code, "on");
            }
        }
        else
        {
            await runner.StopAsync(language.Code, cancellationToken);
            LogTurned(language.Code, "off");
        }
    }

    /// <summary>A language's name for people: <c>English (spoken)</c>, <c>Spanish</c>.</summary>
    public static string DisplayName(CaptionLanguage language)
    {
        ArgumentNullException.ThrowIfNull(language);
        var name = LanguageNames.EnglishName(language.Code);
        return language.IsSource ? $"{name} (spoken)" : name;
    }

    /// <summary>Splits a comma-separated list of language codes; throws <see cref="FormatException"/> naming a bad one.</summary>
    public static List<string> ParseCodes(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var codes = new List<string>();
        foreach (var part in list.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!CodePattern.IsMatch(part))
            {
                throw new FormatException($"'{part}' is not a language code: use ISO 639-1 codes such as es, fr, pt-BR, separated by commas.");
            }

            if (!codes.Contains(part, StringComparer.OrdinalIgnoreCase))
            {
                codes.Add(part);
            }
        }

        return codes;
    }

    [GeneratedRegex("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", RegexOptions.CultureInvariant)]
    private static partial Regex LanguageCode();

    [LoggerMessage(Level = LogLevel.Information, Message = "Caption language {Language} turned {State}")]
    private partial void LogTurned(string language, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored the last language choice ({Languages}) from {Path}")]
    private partial void LogRestored(string languages, string path);
}
