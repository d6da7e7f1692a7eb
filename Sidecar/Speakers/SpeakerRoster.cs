using System.Globalization;
using System.Text.RegularExpressions;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Realtime;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Speakers;

/// <summary>The <c>Speakers</c> list as bound from configuration (settings file, environment, <c>--speaker</c>).</summary>
public sealed class SpeakerListOptions
{
    /// <summary>The configured speakers, in order; empty for the one unnamed speaker.</summary>
    public List<SpeakerOptions> Speakers { get; set; } = [];
}

/// <summary>
/// The speakers the sidecar captions, resolved once at start from the <c>Speakers</c> list, <c>Audio:Input</c>,
/// <c>Realtime:Language</c> and <c>Obs:MuteSource</c>: without a list, one unnamed speaker (key <c>main</c>) from
/// the single input, exactly as before speakers existed.
/// </summary>
public sealed partial class SpeakerRoster
{
    /// <summary>Longest speaker name (a name is shown before every line).</summary>
    public const int MaxNameLength = 32;

    /// <summary>At most this many speakers (each has its own capture and its own paid transcription session).</summary>
    public const int MaxSpeakers = 8;

    /// <summary>Colours given by position to speakers without one: distinct, readable on dark video, colour-blind aware.</summary>
    internal static readonly string[] Palette = ["#ffd166", "#64d2ff", "#ff8fab", "#95e06c", "#c6a0ff", "#ffa94d", "#4dd4ac", "#f4f4f4"];

    public SpeakerRoster(IReadOnlyList<Speaker> speakers)
    {
        ArgumentNullException.ThrowIfNull(speakers);
        if (speakers.Count == 0)
        {
            throw new ArgumentException("A roster has at least one speaker.", nameof(speakers));
        }

        Speakers = speakers;
    }

    /// <summary>The speakers in configuration order (at least one).</summary>
    public IReadOnlyList<Speaker> Speakers { get; }

    /// <summary>True when speakers are named (their lines carry labels); false for the one unnamed speaker.</summary>
    public bool Named => Speakers[0].Label is not null;

    /// <summary>The speaker with key <paramref name="key"/> (case-insensitive), or null.</summary>
    public Speaker? Find(string key) => Speakers.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>Resolves the roster; throws <see cref="OptionsValidationException"/>-worthy messages through <see cref="Validate"/> first.</summary>
    public static SpeakerRoster Resolve(SpeakerListOptions list, AudioOptions audio, RealtimeOptions realtime, string? obsMuteSource)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentNullException.ThrowIfNull(realtime);
        var failures = Validate(list, audio, realtime);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(nameof(SpeakerListOptions), typeof(SpeakerListOptions), failures);
        }

        if (list.Speakers.Count == 0)
        {
            var mute = string.IsNullOrWhiteSpace(obsMuteSource) ? null : obsMuteSource;
            return new SpeakerRoster([new Speaker(Speaker.UnnamedKey, null, audio.Input, realtime.Language, mute)]);
        }

        var speakers = list.Speakers.Select((s, i) =>
        {
            var name = s.Name!.Trim();
            var colour = string.IsNullOrWhiteSpace(s.Colour) ? Palette[i % Palette.Length] : s.Colour.Trim().ToLowerInvariant();
            var language = string.IsNullOrWhiteSpace(s.Language) ? realtime.Language : s.Language.Trim();
            var input = string.IsNullOrWhiteSpace(s.Input) ? audio.Input : s.Input.Trim();
            var mute = string.IsNullOrWhiteSpace(s.ObsMuteSource) ? null : s.ObsMuteSource.Trim();
            return new Speaker(name, new SpeakerLabel(name, colour), input, language, mute);
        });
        return new SpeakerRoster([.. speakers]);
    }

    /// <summary>What is wrong with the <c>Speakers</c> list, one sentence each (empty when it is fine).</summary>
    public static IReadOnlyList<string> Validate(SpeakerListOptions list, AudioOptions audio, RealtimeOptions realtime)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentNullException.ThrowIfNull(realtime);
        var failures = new List<string>();
        if (list.Speakers.Count > MaxSpeakers)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"Speakers: {list.Speakers.Count} speakers are configured; at most {MaxSpeakers} are supported (each has its own capture and transcription session)."));
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stdin = 0;
        for (var i = 0; i < list.Speakers.Count; i++)
        {
            var s = list.Speakers[i];
            var where = string.Create(CultureInfo.InvariantCulture, $"Speakers:{i}");
            var name = s.Name?.Trim();
            if (string.IsNullOrEmpty(name))
            {
                failures.Add($"{where}:Name is missing: every speaker needs a name (--speaker NAME=INPUT), shown before their lines.");
            }
            else if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            {
                failures.Add($"{where}:Name '{name}' is not usable: use at most {MaxNameLength} letters, digits, spaces and . _ - (it is shown before every line and names the speaker in /api/speakers/NAME).");
            }
            else if (!names.Add(name))
            {
                failures.Add($"{where}:Name '{name}' is given twice: speaker names must differ (case does not count).");
            }
            else if (string.Equals(name, Speaker.UnnamedKey, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{where}:Name '{name}' is reserved for the unnamed speaker: choose another name.");
            }

            var input = string.IsNullOrWhiteSpace(s.Input) ? audio.Input : s.Input;
            if (s.Input is not null && string.IsNullOrWhiteSpace(s.Input))
            {
                failures.Add($"{where}:Input is empty: write --speaker {name}=INPUT with INPUT as --input takes it (default, device:NAME, file:PATH, stdin, cmd:COMMAND).");
            }
            else if (AudioInputSpec.Problem(input, out var spec) is { } problem)
            {
                failures.Add($"{where}:Input: {problem}");
            }
            else
            {
                stdin += spec!.Kind == AudioInputKind.Stdin ? 1 : 0;
            }

            if (!string.IsNullOrWhiteSpace(s.Language) && !LanguagePattern().IsMatch(s.Language.Trim()))
            {
                failures.Add($"{where}:Language '{s.Language}' is not a language code: use ISO 639-1 such as 'en', 'es' or 'pt-BR'.");
            }

            if (!string.IsNullOrWhiteSpace(s.Colour) && !ColourPattern().IsMatch(s.Colour.Trim()))
            {
                failures.Add($"{where}:Colour '{s.Colour}' is not a colour: use CSS #rrggbb, for example #ffd166.");
            }
        }

        if (stdin > 1)
        {
            failures.Add("Speakers: more than one speaker reads stdin; only one input can be standard input.");
        }

        return failures;
    }

    [GeneratedRegex(@"^[\p{L}\p{N}][\p{L}\p{N} ._\-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
    private static partial Regex LanguagePattern();

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex ColourPattern();
}

/// <summary>Refuses a <c>Speakers</c> list that cannot work, at start, with what to fix.</summary>
internal sealed class SpeakerListValidator(IOptions<AudioOptions> audio, IOptions<RealtimeOptions> realtime) : IValidateOptions<SpeakerListOptions>
{
    public ValidateOptionsResult Validate(string? name, SpeakerListOptions options)
    {
        var failures = SpeakerRoster.Validate(options, audio.Value, realtime.Value);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
