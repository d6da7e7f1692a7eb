using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// Finds a language's caption text source, or creates it with readable defaults in the configured (or current
/// program) scene with the first text already in it. An existing source is the streamer's: it is never restyled.
/// Used only by <see cref="ObsCaptionOutput"/>'s update loop, one call at a time.
/// </summary>
internal sealed partial class CaptionSourceProvisioner(ObsClient client, ObsCaptionOutputOptions options, ILogger logger)
{
    private static readonly string[] PreferredKinds = ["text_gdiplus_v3", "text_gdiplus_v2", "text_ft2_source_v2"];

    private string? _textInputKind;
    private long _created;

    /// <summary>Sources this provisioner created (read from any thread).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>A new connection may be another OBS: the text input kind is looked up again.</summary>
    public void Reset() => _textInputKind = null;

    /// <summary>
    /// Makes sure the source <paramref name="name"/> exists. Returns true when it was created here with
    /// <paramref name="text"/> (nothing more to send), false when it already existed.
    /// </summary>
    /// <exception cref="ObsRequestFailedException">OBS refused a request.</exception>
    /// <exception cref="InvalidOperationException">This OBS has no text input kind, or no current scene.</exception>
    public async Task<bool> EnsureAsync(string name, string text, CancellationToken ct)
    {
        var existing = await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, ct)
            .ConfigureAwait(false);
        if (existing.IsSuccess)
        {
            return false;
        }

        if (existing.Code != ObsStatusCode.ResourceNotFound)
        {
            existing.EnsureSuccess();
        }

        var kind = await TextInputKindAsync(ct).ConfigureAwait(false);
        var scene = options.SceneName;
        if (scene is null)
        {
            var current = (await client.SendRequestAsync("GetCurrentProgramScene", null, ct).ConfigureAwait(false)).EnsureSuccess();
            scene = current.Data.GetProperty("currentProgramSceneName").GetString()
                ?? throw new InvalidOperationException("OBS returned no current program scene name.");
        }

        var created = await client.SendRequestAsync("CreateInput", new JsonObject
        {
            ["sceneName"] = scene,
            ["inputName"] = name,
            ["inputKind"] = kind,
            ["inputSettings"] = DefaultSettings(kind, text),
            ["sceneItemEnabled"] = true,
        }, ct).ConfigureAwait(false);
        if (created.Code == ObsStatusCode.ResourceAlreadyExists)
        {
            return false; // someone created it meanwhile: leave its style alone, set only its text
        }

        created.EnsureSuccess();
        Interlocked.Increment(ref _created);
        LogSourceCreated(name, kind, scene);
        return true;
    }

    private async Task<string> TextInputKindAsync(CancellationToken ct)
    {
        if (_textInputKind is { } known)
        {
            return known;
        }

        var response = (await client.SendRequestAsync("GetInputKindList", new JsonObject { ["unversioned"] = false }, ct)
            .ConfigureAwait(false)).EnsureSuccess();
        var kinds = response.Data.GetProperty("inputKinds").EnumerateArray().Select(k => k.GetString()).ToHashSet(StringComparer.Ordinal);
        var kind = PreferredKinds.FirstOrDefault(kinds.Contains)
            ?? kinds.FirstOrDefault(k => k is not null && (k.StartsWith("text_gdiplus", StringComparison.Ordinal)
                                                           || k.StartsWith("text_ft2_source", StringComparison.Ordinal)))
            ?? throw new InvalidOperationException(
                "This OBS offers no text input kind (neither text_gdiplus nor text_ft2_source): install OBS's text plugins.");
        _textInputKind = kind;
        return kind;
    }

    private JsonObject DefaultSettings(string kind, string text)
    {
        if (kind.StartsWith("text_gdiplus", StringComparison.Ordinal))
        {
            return new JsonObject
            {
                ["text"] = text,
                ["font"] = new JsonObject { ["face"] = "Arial", ["size"] = options.FontSize, ["style"] = "Regular", ["flags"] = 0 },
                ["color"] = 0xFFFFFF,
                ["outline"] = true,
                ["outline_size"] = 4,
                ["outline_color"] = 0,
                ["extents"] = true,
                ["extents_cx"] = options.TextWidth,
                ["extents_cy"] = options.FontSize * 3,
                ["extents_wrap"] = true,
                ["align"] = "center",
                ["valign"] = "bottom",
            };
        }

        return new JsonObject
        {
            ["text"] = text,
            ["font"] = new JsonObject { ["face"] = "Sans Serif", ["size"] = options.FontSize, ["style"] = "Regular", ["flags"] = 0 },
            ["color1"] = 0xFFFFFFFF,
            ["color2"] = 0xFFFFFFFF,
            ["outline"] = true,
            ["word_wrap"] = true,
            ["custom_width"] = options.TextWidth,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created OBS text source {SourceName} ({InputKind}) in scene {SceneName}")]
    private partial void LogSourceCreated(string sourceName, string inputKind, string sceneName);
}
