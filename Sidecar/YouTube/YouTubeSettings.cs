using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace CaptionSidecar.YouTube;

/// <summary>The YouTube output's settings in force: from the command line or settings, else as a moderator last saved them.</summary>
/// <param name="Url">Where captions are posted; null when none is set (the output is off).</param>
/// <param name="Enabled">Turned on (it posts only with a URL too).</param>
/// <param name="Language">The caption language posted.</param>
/// <param name="OffsetSeconds">Seconds added to every line's time.</param>
/// <param name="MaxAge">How old a line may be when posted.</param>
internal sealed partial record YouTubeSettings(YouTubeIngestionUrl? Url, bool Enabled, string Language, double OffsetSeconds, TimeSpan MaxAge)
{
    /// <summary>Largest offset either way: an hour.</summary>
    public const double MaxOffsetSeconds = 3600;

    /// <summary>The offset as a time span.</summary>
    public TimeSpan Offset => TimeSpan.FromSeconds(OffsetSeconds);

    /// <summary>
    /// The settings at start: <paramref name="options"/> when they name a URL (the command line and settings files
    /// win), else what a moderator saved (<paramref name="store"/>), else off. The language defaults to the spoken one.
    /// </summary>
    public static YouTubeSettings Resolve(YouTubeOptions options, string spokenLanguage, IYouTubeSettingsStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        var maxAge = TimeSpan.FromSeconds(options.MaxAgeSeconds);
        if (!string.IsNullOrWhiteSpace(options.Url))
        {
            if (!YouTubeIngestionUrl.TryParse(options.Url, out var url, out var problem))
            {
                throw new ArgumentException($"{YouTubeOptions.Section}:Url (--youtube-captions): {problem}");
            }

            return new YouTubeSettings(url, options.Enabled, Lower(options.Language) ?? spokenLanguage, options.OffsetSeconds, maxAge);
        }

        var saved = store.Load();
        YouTubeIngestionUrl? savedUrl = null;
        if (saved?.Url is { } text && !YouTubeIngestionUrl.TryParse(text, out savedUrl, out _))
        {
            savedUrl = null;
        }

        return new YouTubeSettings(
            savedUrl,
            saved?.Enabled ?? options.Enabled,
            Lower(options.Language) ?? (saved?.Language is { } l && IsLanguage(l) ? l : spokenLanguage),
            saved?.OffsetSeconds is { } o && Math.Abs(o) <= MaxOffsetSeconds ? o : options.OffsetSeconds,
            maxAge);
    }

    /// <summary>These settings with a moderator's change.</summary>
    /// <exception cref="ArgumentException">A value is invalid: the message says what to fix.</exception>
    public YouTubeSettings With(YouTubeSettingsChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var next = this;
        if (change.Url is { } text)
        {
            if (text.Trim().Length == 0)
            {
                next = next with { Url = null };
            }
            else if (YouTubeIngestionUrl.TryParse(text, out var url, out var problem))
            {
                next = next with { Url = url };
            }
            else
            {
                throw new ArgumentException(char.ToUpperInvariant(problem[0]) + problem[1..]);
            }
        }

        if (change.Language is { } language)
        {
            if (!IsLanguage(language.Trim().ToLowerInvariant()))
            {
                throw new ArgumentException("The language must be a caption language code such as en, es or pt-br.");
            }

            next = next with { Language = language.Trim().ToLowerInvariant() };
        }

        if (change.OffsetSeconds is { } offset)
        {
            if (!double.IsFinite(offset) || Math.Abs(offset) > MaxOffsetSeconds)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The offset must be between -{MaxOffsetSeconds} and {MaxOffsetSeconds} seconds."));
            }

            next = next with { OffsetSeconds = offset };
        }

        if (change.Enabled is { } enabled)
        {
            next = next with { Enabled = enabled };
        }

        return next;
    }

    /// <summary>Problems with <paramref name="options"/>, each saying what to fix; empty when they are valid.</summary>
    public static IReadOnlyList<string> Problems(YouTubeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> problems = [];
        if (!string.IsNullOrWhiteSpace(options.Url) && !YouTubeIngestionUrl.TryParse(options.Url, out _, out var problem))
        {
            problems.Add($"{YouTubeOptions.Section}:Url (--youtube-captions): {problem}");
        }

        if (options.Language is { } language && !IsLanguage(language.Trim().ToLowerInvariant()))
        {
            problems.Add($"{YouTubeOptions.Section}:Language (--youtube-language) '{language}' is not a language code: use one such as en, es or pt-BR.");
        }

        if (!double.IsFinite(options.OffsetSeconds) || Math.Abs(options.OffsetSeconds) > MaxOffsetSeconds)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{YouTubeOptions.Section}:OffsetSeconds (--youtube-offset) {options.OffsetSeconds} must be between -{MaxOffsetSeconds} and {MaxOffsetSeconds}."));
        }

        if (!double.IsFinite(options.MaxAgeSeconds) || options.MaxAgeSeconds < 1 || options.MaxAgeSeconds > 600)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{YouTubeOptions.Section}:MaxAgeSeconds {options.MaxAgeSeconds} must be between 1 and 600."));
        }

        return problems;
    }

    private static string? Lower(string? language) => string.IsNullOrWhiteSpace(language) ? null : language.Trim().ToLowerInvariant();

    private static bool IsLanguage(string code) => LanguageCode().IsMatch(code);

    [GeneratedRegex("^[a-z]{2,3}(-[a-z0-9]{2,8})?$", RegexOptions.CultureInvariant)]
    private static partial Regex LanguageCode();
}

/// <summary>The YouTube settings a moderator saved, as kept on disk.</summary>
internal sealed record SavedYouTubeSettings(int Version, string? Url, bool? Enabled, string? Language, double? OffsetSeconds);

/// <summary>Where a moderator's YouTube settings are kept between runs (a file; a fake in tests).</summary>
internal interface IYouTubeSettingsStore
{
    /// <summary>The saved settings, or null when there are none (or they cannot be read).</summary>
    SavedYouTubeSettings? Load();

    /// <summary>Saves <paramref name="settings"/>; failures are logged, not thrown.</summary>
    void Save(YouTubeSettings settings);
}

/// <summary>
/// Keeps the YouTube settings in <c>youtube.json</c> in the per-user data folder, readable by this user only (the URL
/// is a secret). Written to a temporary file that then replaces the old one.
/// </summary>
internal sealed partial class YouTubeSettingsFile(string path, ILogger<YouTubeSettingsFile> logger) : IYouTubeSettingsStore
{
    /// <summary>The file's name in the data folder.</summary>
    public const string FileName = "youtube.json";

    private readonly Lock _gate = new();

    public SavedYouTubeSettings? Load()
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), YouTubeSettingsJsonContext.Default.SavedYouTubeSettings) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            LogUnreadable(ex, path);
            return null;
        }
    }

    public void Save(YouTubeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(
            new SavedYouTubeSettings(1, settings.Url?.Secret, settings.Enabled, settings.Language, settings.OffsetSeconds),
            YouTubeSettingsJsonContext.Default.SavedYouTubeSettings);
        lock (_gate)
        {
            var temporary = path + ".tmp";
            try
            {
                if (Path.GetDirectoryName(path) is { Length: > 0 } folder)
                {
                    Directory.CreateDirectory(folder);
                }

                using (var file = OperatingSystem.IsWindows()
                    ? new FileStream(temporary, FileMode.Create, FileAccess.Write)
                    : new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
                {
                    file.Write(bytes);
                }

                File.Move(temporary, path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogUnwritable(ex, path);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The saved YouTube settings in {Path} cannot be read; the YouTube output starts off")]
    private partial void LogUnreadable(Exception ex, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The YouTube settings could not be saved to {Path}; they will not survive a restart")]
    private partial void LogUnwritable(Exception ex, string path);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SavedYouTubeSettings))]
internal sealed partial class YouTubeSettingsJsonContext : JsonSerializerContext;
