using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Outputs;

/// <summary>How the sidecar reaches OBS and names its caption sources. Bound from the <c>Obs</c> section.</summary>
public sealed class ObsOptions
{
    public const string Section = "Obs";

    /// <summary>Send captions to OBS. Default true; <c>--no-obs</c> turns it off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The obs-websocket server. Default <c>ws://127.0.0.1:4455</c>.</summary>
    [Required]
    public Uri Url { get; set; } = new("ws://127.0.0.1:4455");

    /// <summary>The obs-websocket password (Tools > WebSocket Server Settings); prefer <c>OBS_WEBSOCKET_PASSWORD</c>. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Scene in which missing caption sources are created. Default: the current program scene.</summary>
    public string? Scene { get; set; }

    /// <summary>Name of the text source per language; <c>{lang}</c> becomes the language code. Default <c>Captions ({lang})</c>.</summary>
    // An ErrorMessage is a format string (the member name and the pattern are its arguments): {{ writes a brace.
    [Required, RegularExpression(@".*\{lang\}.*", ErrorMessage = "Obs:SourceTemplate must contain {{lang}}, e.g. 'Captions ({{lang}})'.")]
    public string SourceTemplate { get; set; } = "Captions ({lang})";

    /// <summary>
    /// With named speakers, also one text source per speaker and language, showing only that speaker's lines (no
    /// label: the source sits by the speaker's camera); <c>{speaker}</c> becomes the speaker's name and <c>{lang}</c>
    /// the language code, for example <c>Captions ({lang}) {speaker}</c>. Off (null) by default: the language's source
    /// shows every speaker, each block led by <c>Name: </c>. <c>--obs-speaker-source-template</c>.
    /// </summary>
    [RegularExpression(@"(?s)(?=.*\{speaker\}).*\{lang\}.*", ErrorMessage = "Obs:SpeakerSourceTemplate must contain {{speaker}} and {{lang}}, e.g. 'Captions ({{lang}}) {{speaker}}'.")]
    public string? SpeakerSourceTemplate { get; set; }

    /// <summary>Language whose finished lines also go into the stream as native CEA-608 captions; none by default.</summary>
    [RegularExpression("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", ErrorMessage = "Obs:NativeCaptions must be a language code such as 'en'.")]
    public string? NativeCaptions { get; set; }

    /// <summary>
    /// OBS input (the streamer's mic) whose mute pauses captioning: while it is muted no audio goes to any session.
    /// None by default (the feature is off). <c>--obs-mute-source</c>.
    /// </summary>
    public string? MuteSource { get; set; }
}
