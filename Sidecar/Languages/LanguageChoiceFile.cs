using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionSidecar.Languages;

/// <summary>The moderators' last choice of caption languages, as kept on disk.</summary>
/// <param name="Source">Whether the source (spoken) language is on.</param>
/// <param name="Targets">The translation targets that are on.</param>
internal sealed record LanguageChoice(bool Source, IReadOnlyList<string> Targets);

/// <summary>Where the moderators' choice is kept between runs (a file; a fake in tests).</summary>
internal interface ILanguageChoiceStore
{
    /// <summary>Where it is kept, for logs.</summary>
    string Path { get; }

    /// <summary>The saved choice, or null when there is none (or it cannot be read).</summary>
    LanguageChoice? Load();

    /// <summary>Saves <paramref name="choice"/>, replacing the saved one; failures are logged, not thrown.</summary>
    void Save(LanguageChoice choice);
}

/// <summary>
/// Keeps <see cref="LanguageChoice"/> in a small JSON file so the choice survives a restart. Writes go to a
/// temporary file that then replaces the old one, so a crash never leaves half a file; a file that cannot be read
/// is reported and ignored (the sidecar then starts with the configured languages).
/// </summary>
internal sealed partial class LanguageChoiceFile(string path, ILogger logger) : ILanguageChoiceStore
{
    private readonly Lock _gate = new();

    /// <summary>The file's full path.</summary>
    public string Path { get; } = path;

    /// <summary>The saved choice, or null when there is none (or it cannot be read).</summary>
    public LanguageChoice? Load()
    {
        try
        {
            if (!File.Exists(Path))
            {
                return null;
            }

            var saved = JsonSerializer.Deserialize(File.ReadAllBytes(Path), LanguageChoiceJsonContext.Default.SavedChoice);
            return saved is { Targets: not null } ? new LanguageChoice(saved.Source ?? true, saved.Targets) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            LogUnreadable(ex, Path);
            return null;
        }
    }

    /// <summary>Saves <paramref name="choice"/>; failures are logged (the running languages are not affected).</summary>
    public void Save(LanguageChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new SavedChoice(1, choice.Source, [.. choice.Targets]), LanguageChoiceJsonContext.Default.SavedChoice);
        lock (_gate)
        {
            var temporary = Path + ".tmp";
            try
            {
                if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } folder)
                {
                    Directory.CreateDirectory(folder);
                }

                File.WriteAllBytes(temporary, bytes);
                File.Move(temporary, Path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogUnwritable(ex, Path);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The saved language choice in {Path} cannot be read; starting with the configured languages")]
    private partial void LogUnreadable(Exception ex, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The language choice could not be saved to {Path}; it will not survive a restart")]
    private partial void LogUnwritable(Exception ex, string path);

    internal sealed record SavedChoice(int Version, bool? Source, string[]? Targets);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(LanguageChoiceFile.SavedChoice))]
internal sealed partial class LanguageChoiceJsonContext : JsonSerializerContext;
