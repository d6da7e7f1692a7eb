using System.Text;
using System.Text.Json;
using CaptionSidecar.Languages;

namespace CaptionSidecar.Hosting;

/// <summary>
/// The streamer's own settings file, <c>settings.json</c> in the per-user data folder
/// (<c>%LOCALAPPDATA%\CaptionSidecar\settings.json</c> on Windows): read after the exe's <c>appsettings.json</c> and
/// before <c>--config</c>, the environment and the command line. Written on the first start with the settings a
/// streamer changes, each with a comment: the secrets empty, the rest commented out at their defaults, so that writing
/// it changes nothing and the exe's appsettings.json still applies until the streamer sets a value here.
/// </summary>
public static class UserSettings
{
    /// <summary>The file's name in the data folder.</summary>
    public const string FileName = "settings.json";

    /// <summary>Reads JSON as the configuration's JSON provider does: comments and trailing commas allowed.</summary>
    private static readonly JsonDocumentOptions Reading = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The settings file in <paramref name="folders"/>.</summary>
    public static string PathIn(DataFolders folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        return Path.Combine(folders.Root, FileName);
    }

    /// <summary>
    /// The file a first start writes: the API key and OBS password empty, every other setting commented out at its
    /// default, so that the exe's appsettings.json keeps applying until the streamer sets a value here.
    /// </summary>
    public static string Template() =>
        $$"""
        // CaptionSidecar settings for this user. Edit, save, and start CaptionSidecar again.
        // Lines starting with // are comments: a setting shown as a comment is at its default (appsettings.json beside
        // the program); remove the // to set it here. Text goes in "quotes"; a \ in a path is written \\. A comma ends
        // each setting (one after the last is fine).
        // The command line, environment variables (OPENAI_API_KEY, OBS_WEBSOCKET_PASSWORD, CAPTIONSIDECAR_...) and
        // --config FILE win over this file. "CaptionSidecar --help" lists every setting.
        {
          "Realtime": {
            // Your OpenAI API key (https://platform.openai.com/api-keys). Empty: the labelled test pattern runs,
            // so the overlay and OBS can be set up first.
            "ApiKey": "",
            // The language you speak (ISO 639-1: en, es, fr, de, ja, ...).
            // "Language": "en",
          },
          "Audio": {
            // default: the default microphone in the system's sound settings.
            // device:NAME: one device, or an output's sound ("CaptionSidecar devices" lists them).
            // "Input": "default",
          },
          "Languages": {
            // Translations the tray and the control page offer.
            // "Available": "{{LanguageOptions.DefaultAvailable}}",
            // Translations on at every start. Left out, the last choice (tray or control page) is restored.
            // "Enabled": "es,fr",
          },
          "Obs": {
            // OBS > Tools > WebSocket Server Settings: the server password. Empty: no password.
            "Password": "",
            // false: do not connect to OBS (the overlay still works).
            // "Enabled": true,
            // Your mic's input in OBS: while it is muted, no audio is sent and captioning pauses.
            // "MuteSource": "Mic/Aux",
          },
          "Http": {
            // Port of the overlay (OBS Browser Source) and the control page on this computer.
            // "Port": 4470,
          }
        }

        """;

    /// <summary>Writes <see cref="Template"/> to <paramref name="path"/> when no file is there.</summary>
    /// <returns>True when the file was written now.</returns>
    public static bool CreateIfMissing(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path))
        {
            return false;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            // CreateNew: two sidecars starting at once must not both write, nor overwrite a file the streamer just saved.
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Template().ReplaceLineEndings());
            file.Write(bytes);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>
    /// Checks that <paramref name="path"/> holds a JSON object, as the configuration reads it (comments and trailing
    /// commas allowed), so that a mistake is reported naming the file, the line and the problem.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON, or its top level is not an object.</exception>
    public static void Validate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Settings file '{path}' cannot be read: {ex.Message}", ex);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, Reading);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException(
                    $"Settings file '{path}' must hold one {{ ... }} object, not a {document.RootElement.ValueKind.ToString().ToLowerInvariant()}. Fix it, or delete it to get a fresh one.");
            }
        }
        catch (JsonException ex)
        {
            // JsonException counts lines and columns from 0.
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : string.Empty;
            throw new InvalidDataException(
                $"Settings file '{path}' is not valid JSON{where}: {FirstSentence(ex.Message)} Fix it, or delete it to get a fresh one.", ex);
        }
    }

    /// <summary>System.Text.Json's message without its "Path: ... | LineNumber: ..." tail (the position is given already).</summary>
    private static string FirstSentence(string message)
    {
        var tail = new[] { " Path:", " LineNumber:" }.Select(t => message.IndexOf(t, StringComparison.Ordinal)).Where(i => i > 0).DefaultIfEmpty(message.Length).Min();
        return message[..tail].Trim();
    }
}

/// <summary>Where this run's user settings file is.</summary>
/// <param name="Path">The file (it may not exist when the run did not create it).</param>
/// <param name="Created">True when this start wrote it.</param>
public sealed record UserSettingsFile(string Path, bool Created);
