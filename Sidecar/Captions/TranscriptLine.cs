using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionSidecar.Captions;

/// <summary>One line of a <c>.jsonl</c> transcript: a turn that became final.</summary>
/// <param name="Index">1-based position of the turn in the language's transcript.</param>
/// <param name="Lang">Caption language code.</param>
/// <param name="ItemId">The engine's id for the turn.</param>
/// <param name="StartMs">Start in milliseconds from the start of audio, as the engine reported it.</param>
/// <param name="EndMs">End in milliseconds from the start of audio.</param>
/// <param name="Text">Final text.</param>
/// <param name="WallTime">When the turn became final (wall clock).</param>
/// <param name="Speaker">Who said it, for a named speaker; left out of the line (not written as null) for the one
/// unnamed speaker, so such lines are exactly as before speakers existed.</param>
internal sealed record TranscriptLine(int Index, string Lang, string ItemId, long StartMs, long EndMs, string Text, DateTimeOffset WallTime,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Speaker = null);

/// <summary>Source-generated serializer for <see cref="TranscriptLine"/> (snake_case names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TranscriptLine))]
internal sealed partial class TranscriptJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Writes non-ASCII text as itself (a Japanese transcript stays readable); the files are data, never embedded
    /// in HTML, so the relaxed escaping is safe. JSON still escapes quotes, backslashes and control characters.
    /// </summary>
    public static TranscriptJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
