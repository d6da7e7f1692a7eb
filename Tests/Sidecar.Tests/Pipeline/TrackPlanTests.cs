using CaptionSidecar.Captions;
using CaptionSidecar.Pipeline;
using CaptionSidecar.Realtime;
using CaptionSidecar.Speakers;

namespace CaptionSidecar.Tests.Pipeline;

/// <summary>Which tracks run, from languages on, speakers captioned and what translations work from.</summary>
public sealed class TrackPlanTests
{
    private static readonly Speaker Unnamed = new(Speaker.UnnamedKey, null, "default", "en", null);
    private static readonly Speaker Host = new("Host", new SpeakerLabel("Host", "#ffd166"), "default", "en", null);
    private static readonly Speaker Guest = new("Guest", new SpeakerLabel("Guest", "#64d2ff"), "device:usb", "es", null);

    [Fact]
    public void Desired_OneSpeakerTextMode_TranscriptionAndOneTextTrackPerTarget()
    {
        var plan = TrackPlan.Desired([Unnamed], _ => true, ["en", "es", "fr"], TranslationSource.Text, usesAudio: true);

        Assert.True(plan.SetEquals([new(TrackRole.Transcribe, "main", "en"), new(TrackRole.TextTranslate, null, "es"), new(TrackRole.TextTranslate, null, "fr")]));
    }

    [Fact]
    public void Desired_OneSpeakerAudioMode_EachTargetHearsTheAudio()
    {
        var plan = TrackPlan.Desired([Unnamed], _ => true, ["en", "es"], TranslationSource.Audio, usesAudio: true);

        Assert.Equal(2, plan.Count);
        Assert.Contains(new TrackKey(TrackRole.Transcribe, "main", "en"), plan);
        Assert.Contains(new TrackKey(TrackRole.AudioTranslate, "main", "es"), plan);
    }

    [Fact]
    public void Desired_SourceOffInTextMode_TranscriptionStillRunsForTheTranslations()
    {
        var plan = TrackPlan.Desired([Unnamed], _ => true, ["es"], TranslationSource.Text, usesAudio: true);
        Assert.Contains(new TrackKey(TrackRole.Transcribe, "main", "en"), plan);

        var audio = TrackPlan.Desired([Unnamed], _ => true, ["es"], TranslationSource.Audio, usesAudio: true);
        Assert.DoesNotContain(audio, k => k.Role == TrackRole.Transcribe);
    }

    [Fact]
    public void Desired_GuestSpeaksAnotherLanguage_TranscribedInTheirsAndTranslatedIntoTheOthers()
    {
        var plan = TrackPlan.Desired([Host, Guest], _ => true, ["en", "es", "fr"], TranslationSource.Text, usesAudio: true);

        Assert.Contains(new TrackKey(TrackRole.Transcribe, "Host", "en"), plan);
        Assert.Contains(new TrackKey(TrackRole.Transcribe, "Guest", "es"), plan);
        Assert.Contains(new TrackKey(TrackRole.TextTranslate, null, "en"), plan); // the guest's lines in English
        Assert.Contains(new TrackKey(TrackRole.TextTranslate, null, "es"), plan); // the host's lines in Spanish
        Assert.Contains(new TrackKey(TrackRole.TextTranslate, null, "fr"), plan);
        Assert.Equal(5, plan.Count);

        var audio = TrackPlan.Desired([Host, Guest], _ => true, ["en", "es", "fr"], TranslationSource.Audio, usesAudio: true);
        Assert.Contains(new TrackKey(TrackRole.AudioTranslate, "Guest", "en"), audio);
        Assert.Contains(new TrackKey(TrackRole.AudioTranslate, "Host", "es"), audio);
        Assert.DoesNotContain(new TrackKey(TrackRole.AudioTranslate, "Guest", "es"), audio);
    }

    [Fact]
    public void Desired_MutedSpeaker_NothingHearsThem()
    {
        var plan = TrackPlan.Desired([Host, Guest], key => key != "Guest", ["en", "fr"], TranslationSource.Audio, usesAudio: true);

        Assert.DoesNotContain(plan, k => k.Speaker == "Guest");
        Assert.Contains(new TrackKey(TrackRole.AudioTranslate, "Host", "fr"), plan);
    }

    [Fact]
    public void Desired_TestPattern_OneTrackPerLanguageForTheFirstSpeaker()
    {
        var plan = TrackPlan.Desired([Host, Guest], _ => true, ["en", "es"], TranslationSource.Text, usesAudio: false);

        Assert.Equal([new(TrackRole.Pattern, "Host", "en"), new(TrackRole.Pattern, "Host", "es")], plan.OrderBy(k => k.Language, StringComparer.Ordinal).ToList());
    }
}
