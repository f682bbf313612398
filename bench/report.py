"""Turn bench/results/*.json into bench/results/README.md (shown whole on docs/developers/benchmarks.md)."""

from __future__ import annotations

import json

from .common import RESULTS


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


PART_TITLES = {"tuning": "tuning part", "held_back": "held-back part"}


def _detection_lines(det: dict) -> list[str]:
    """Per part (bench/split.py): recall by face size at publication scale, faces left
    uncovered, false boxes, covered area, time, s/MP and the whole scan against HOG."""
    if "parts" not in det:  # a result from before the split
        return []
    buckets = ("10-20", "20-40", "40-80", ">=80")
    parts = det["parts"]
    lines = ["## Detection: tuning part and held-back part", "",
             "Group and crowd photos (hand-checked), crowd photos rescaled, generated 2/12/24 MP "
             "scenes with real faces pasted at 8-60 px and generated 12-24 MP event scenes with "
             "8-40 faces of 10-160 px; sizes at publication scale "
             f"({det['publish_side']} px long side). A face counts as found when the covers hide "
             "80 % of it. The photos are split by a hash of their name into a tuning part, the "
             "only one engine choices are made on, and a held-back part "
             "(bench/labels/README.md); the held-back figures are those that count.", "",
             "| part | system | photos (MP) | recall >=10 px | recall >=20 px | faces >=10 px "
             "left uncovered | " + " | ".join(buckets)
             + " | <10 px | false boxes (per photo) | covered area/photo (by false boxes) | "
             "seconds | s/MP |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for part, r in parts.items():
        for name, s in r["summary"].items():
            b = s["recall_by_size"]
            cells = [f"{b[k][0]:.3f} (n={b[k][1]})" if b[k][0] is not None else "-"
                     for k in buckets + ("<10",)]
            lines.append(
                f"| {PART_TITLES.get(part, part)} | {name} | {r['photos']} ({r['megapixels']}) | "
                f"{s['recall_ge10']:.4f} (n={s['faces_ge10']}) | "
                f"{s['recall_ge20']:.4f} (n={s['faces_ge20']}) | {s['uncovered_ge10']} | "
                + " | ".join(cells)
                + f" | {s['false_boxes']} ({s['false_boxes_per_photo']}) | "
                f"{s['covered_share_per_photo']:.1%} "
                f"({s['false_covered_share_per_photo']:.2%}) | {s['seconds']} | "
                f"{s['seconds_per_megapixel']} |")
    lines.append("")
    for part, r in parts.items():
        title = PART_TITLES.get(part, part)
        whole, gk = r["whole_scan"], r["summary"]["gatekeeper"]
        if whole and "ratio_to_face_recognition" in whole:
            runs = whole.get("runs_seconds", [])
            lines.append(
                f"- {title}, the whole `gatekeeper scan` command ({whole['photos']} photos, "
                f"{whole['people_enrolled']} people enrolled, {whole['processes']} worker "
                f"processes, start and model loading included): {whole['seconds']} s"
                + (f" (mean of {', '.join(map(str, runs))} s)" if len(runs) > 1 else "")
                + f", **{whole['ratio_to_face_recognition']}x** face_recognition's default "
                "detection alone on the same photos"
                + (f" (runs {', '.join(map(str, whole['runs_ratio_to_face_recognition']))})"
                   if len(runs) > 1 else "")
                + f"; {whole['cpu_ratio_to_face_recognition']}x in CPU time")
        if "engine_ratio" in gk:
            lines.append(
                f"- {title}, the engine alone in one process on one core (loading "
                f"{gk['model_loading_s']} s included): {gk['engine_ratio']}x HOG's time; of which "
                f"encodings (dlib + SFace, every usable face) {gk['encoding_s']} s; without them "
                f"{gk['engine_ratio_without_encodings']}x")
        spm = r["seconds_per_megapixel"]
        kinds = sorted({k.split(" / ")[0] for k in spm})
        lines.append(f"- {title}, s/MP by kind: " + "; ".join(
            f"{kind}: " + ", ".join(f"{k.split(' / ')[1]} {v}" for k, v in spm.items()
                                    if k.split(" / ")[0] == kind) for kind in kinds))
    split = _real_and_generated(det.get("photos", []))
    if split:
        lines.append("- the engine alone against HOG, photo by photo summed, real photos (group, "
                     "crowd, rescaled) apart from generated scenes (the whole-scan ratio above "
                     "weighs the large generated scenes most): " + "; ".join(
                         f"{PART_TITLES.get(p, p)}, {fam}: {g:.1f} s vs {h:.1f} s, {g / h:.2f}x "
                         f"({n} photos)" for (p, fam), (g, h, n) in split.items()))
    if det.get("peak_rss_mb_24mp") is not None:
        lines.append(f"- peak memory of a worker scanning the 24 MP scene: "
                     f"{det['peak_rss_mb_24mp']} MB")
    if det.get("quick"):
        lines.append("- a quick run (`--quick`): the whole scan once per part, no memory figure")
    return lines + [""]


def _real_and_generated(photos: list[dict]) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(part, real|generated) -> Gatekeeper's engine seconds, HOG's seconds, photos."""
    out: dict[tuple[str, str], tuple[float, float, int]] = {}
    for r in photos:
        if "part" not in r or "face_recognition_default" not in r:
            continue
        fam = "generated" if r["kind"].split()[0] in ("scene", "event") else "real"
        g, h, n = out.get((r["part"], fam), (0.0, 0.0, 0))
        out[(r["part"], fam)] = (g + r["gatekeeper"]["seconds"],
                                 h + r["face_recognition_default"]["seconds"], n + 1)
    return dict(sorted(out.items()))


def _proxy_lines(proxy: dict) -> list[str]:
    """The children's proxy (bench/children_proxy.py): each route on both parts, both levels."""
    st = proxy["setting"]
    if "levels" not in st:  # the first version's results
        return []
    lines = ["## Children's proxy (issue 29): tuning and held-back parts", "",
             "The shared people photos split by a hash of each person's folder (salt "
             f"`{st['salt']}`); in each part everyone with 3+ usable photos enrolled (as a "
             f"child) with {st['references']} reference photos. Probes: their other photos in "
             f"{st['canvas'][0]}x{st['canvas'][1]} class photos of six, faces "
             f"{', '.join(map(str, st['sizes']))} px, grown by the cardioidal strain for a gap "
             f"of {', '.join(map(str, st['gap_years']))} years, softened, half of the photos "
             f"dim and noisy (JPEG {st['hard']['jpeg_quality']}), each photo shown "
             f"{st['showings']} times. Un-enrolled: group-photo faces, people with too few "
             f"photos, siblings ({st['sibling_share']:.0%} of an enrolled face blended into an "
             "un-enrolled one), each enrolled person left out, look-alike pairs; half-and-half "
             "morphs are counted apart. Levels: "
             + "; ".join(f"{lv}: strain {k} a year, blur {b[0]}-{b[1]} px"
                         for lv, (k, b) in st["levels"].items())
             + ". Choices were made on tuning parts only: the child threshold and margin on "
             "the class level's, the second-template requirement and the blur floor on both "
             "levels'.", "",
             "| level | route | part | recognised (>= 60 px) | wrong person | un-enrolled "
             "shown (siblings) | morphs shown | references refused |",
             "|---|---|---|---|---|---|---|---|"]
    for level in st["levels"]:
        for label, parts in proxy[level]["routes"].items():
            for part, r in sorted(parts.items(), key=lambda kv: kv[0] != "tuning"):
                lines.append(
                    f"| {level} | {label} | {part.replace('_', '-')} | {r['recognised_60px']} "
                    f"of {r['genuine_60px']} ({r['recall_60px']:.1%}) | {r['wrong_person']} | "
                    f"{r['unenrolled_shown']} of {r['unenrolled_probes']} ({r['sibling_shown']} "
                    f"of {r['sibling_probes']}) | {r['morph_shown']} of {r['morph_probes']} | "
                    f"{r['references_refused']} |")
    second = proxy.get("child_second_grid_tuning")
    if second:
        lines += _grid_lines(
            "A child must also be placed by their second-nearest template "
            "(`FusionRule.child_second`, the fused score there), tuning parts of both levels "
            f"(default route otherwise); pick {second['chosen']}, rule "
            f"{second['rule_default']}:", "child_second", second["grid"], st["levels"])
    floor = proxy.get("blur_floor_grid_tuning")
    if floor:
        lines += _grid_lines(
            f"The blur floor: faces under it are too blurred, from it to "
            f"{floor['sharp_from']:g} soft (identified under the stricter margin), tuning parts "
            f"of both levels; pick {floor['chosen']:g}, engine {floor['engine_default']:g}:",
            "floor", floor["grid"], st["levels"])
    return lines + [""]


def _grid_lines(title: str, key: str, grid: list[dict], levels: dict) -> list[str]:
    """One setting's grid on the proxy's tuning parts: a row per value, a cell per level."""
    lines = ["", title, "",
             f"| {key} | " + " | ".join(f"{lv}: recognised, wrong, un-enrolled (siblings), "
                                        "morphs" for lv in levels) + " |",
             "|---|" + "---|" * len(levels)]
    for row in grid:
        lines.append(f"| {row[key]:g} | " + " | ".join(
            f"{row[lv]['recognised_60px']} of {row[lv]['genuine_60px']}, "
            f"{row[lv]['wrong_person']}, {row[lv]['unenrolled_shown']} "
            f"({row[lv]['sibling_shown']}), {row[lv]['morph_shown']}" for lv in levels) + " |")
    return lines


def _video_lines(vid: dict) -> list[str]:
    """Video against deface on the generated clips (bench/video.py), both parts."""
    lines = ["## Video: Gatekeeper vs deface on generated clips", "",
             f"A camera pans and zooms over a real crowd photo while four real faces move over it "
             f"(a consented pupil, two without consent, one unknown dashing across "
             f"motion-blurred), {vid['clip']}, planted camera tags and sound; per-frame truth "
             "from construction. A face-frame is left visible when less than 80 % of its box "
             "is flat (a cover); of those, \"as source\" counts the ones with at least a fifth "
             "of the box as in the source (a seam between two covers is not flat, but is no "
             "face); dlib is HOG run on them. Faces of 20 px or more, at least a "
             "quarter in the picture. A consented face is shown when not covered so, clearly "
             "when at most a fifth of its box is flat.", "",
             "| clip | system | must-cover face-frames | left visible (pixels) | as source | "
             "dlib finds | consented shown | metadata left | sound streams | CPU s / wall s "
             "(scan + publish) | peak MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for part, r in vid["parts"].items():
        for name in ("gatekeeper", "deface"):
            s = r[name]
            meta = len(s.get("exiftool_tags_left", [])) + len(s.get("planted_bytes_left", []))
            clearly = (f" ({s['consented_shown_clearly']} clearly)"
                       if "consented_shown_clearly" in s else "")
            shown = (f"{s['consented_shown']}/{s['consented_face_frames']}{clearly}"
                     if name == "gatekeeper" else "- (covers every face)")
            secs = f"{s.get('cpu_s', '-')} / {s.get('scan_publish_s', s.get('seconds'))}"
            lines.append(f"| {PART_TITLES.get(part, part)} | {name} | "
                         f"{s.get('must_cover_face_frames', '-')} | "
                         f"{s.get('left_visible_pixels', '-')} | "
                         f"{s.get('left_visible_as_source', '-')} | {s.get('left_visible_dlib', '-')} "
                         f"| {shown} | {meta} | {s.get('sound_streams', '-')} | {secs} | "
                         f"{s['peak_rss_mb']} |")
    lines.append("")
    for part, r in vid["parts"].items():
        lines.append(f"- {PART_TITLES.get(part, part)}: Gatekeeper's scan + publish took "
                     f"**{r.get('cpu_ratio_to_deface', '-')}x** deface's CPU time (target at "
                     f"most 0.25x), {r['time_ratio_to_deface']}x its wall time; "
                     f"faces left visible by Gatekeeper, by face: "
                     f"{r['gatekeeper'].get('left_visible_by_face') or 'none'}; by deface: "
                     f"{r['deface'].get('left_visible_by_face') or 'none'}")
    lines.append("")
    return lines


def _video_length_lines(length: dict) -> list[str]:
    """A ten-minute clip's track work (bench/video_length.py), both parts."""
    lines = ["## Video: a ten-minute clip's track work", "",
             f"The sampled boxes of {length['clip']} made by code (drifting, lost, turning "
             "away, leaving and coming in), no network run: CPU seconds to link them into "
             "tracks and for a render's per-frame track work (which tracks to cover where, on "
             "small frames so that the pixels cost nothing).", "",
             "| part | samples | boxes | tracks | frames | link CPU s | render track work CPU s |",
             "|---|---|---|---|---|---|---|"]
    for part, r in length["parts"].items():
        lines.append(f"| {PART_TITLES.get(part, part)} | {r['samples']:,} | {r['boxes']:,} | "
                     f"{r['tracks']:,} | {r['frames']:,} | {r['link_cpu_s']} | "
                     f"{r['render_track_work_cpu_s']} |")
    lines.append("")
    return lines


def _video_real_lines(real: dict) -> list[str]:
    """Video against deface on real licensed clips (bench/video_real.py), judged by dlib."""
    lines = ["## Video: Gatekeeper vs deface on real clips", "",
             "Real footage of real people under open licences (origins in "
             "bench/video_real.py; the clips are not in the project), nobody enrolled, so "
             "every face must be covered. No truth: dlib's HOG, which neither tool uses, finds "
             "the faces in the source; a face-frame is left visible when less than 80 % of "
             "dlib's box is flat in the output; of those, \"as in the source\" keep a fifth "
             "of the box as it was (the seam where two solid covers of different colours "
             "meet is not flat, but is no face).", "",
             "| clip | system | face-frames (dlib, source) | left visible (pixels) | ... as in "
             "the source | no cover at all | dlib finds again | metadata left | sound streams "
             "| CPU s | peak MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, clip in real["clips"].items():
        for system in ("gatekeeper", "deface"):
            s = clip[system]
            lines.append(f"| {name} | {system} | {s['face_frames']} | {s['visible_pixels']} | "
                         f"{s.get('visible_as_source', '-')} | "
                         f"{s['visible_not_covered_at_all']} | {s['found_by_dlib']} | "
                         f"{len(s.get('exiftool_tags_left', []))} | {s['sound_streams']} | "
                         f"{s['cpu_s']} | {s['peak_rss_mb']} |")
    lines.append("")
    for name, clip in real["clips"].items():
        lines.append(f"- {name}: Gatekeeper's scan + publish took "
                     f"{clip.get('cpu_ratio_to_deface', '-')}x deface's CPU time")
    lines.append("")
    return lines


GROUP_TITLES = {"tuning": "tuning part", "held_back": "held-back part",
                "event scenes": "event scenes (12-24 MP, 8-40 faces of 10-160 px)"}


def _scan_speed_lines(r: dict) -> list[str]:
    """The whole scan against HOG per group (interleaved runs, spread), and the recall of the
    scan (online copy) and of the scan with the deeper search (display copy)."""
    lines = ["## The whole scan against HOG, and the recall of each depth of the search", "",
             "`bench/scan_speed.py`: each run times face_recognition's default HOG detection "
             "(one process) and the real `gatekeeper scan` command (start, models, 6 people "
             "enrolled, one worker per core) on the same photos, alternating which goes first. "
             f"The scan searches for faces of 10 px in the online copy ({r['online_side']} px); "
             f"a display or print copy ({r['display_side']} px) is written only after the "
             "deeper search (services/photos/depth.py), timed here by the engine in one "
             "process.", "",
             "| photos | photos (MP) | whole scan / HOG, median (min-max) | runs (scan s / HOG s) "
             "| CPU time ratio |", "|---|---|---|---|---|"]
    for g, sp in r.get("speed", {}).items():
        if g not in r.get("groups", {}):
            continue  # the timed groups, summed into the reported ones
        meta = r["groups"][g]
        runs = ", ".join(f"{e['scan_seconds']}/{e['hog_seconds']}" for e in sp["runs"])
        lines.append(f"| {GROUP_TITLES.get(g, g)} | {meta['photos']} ({meta['megapixels']}) | "
                     f"**{sp['ratio_median']}x** ({sp['ratio_min']}-{sp['ratio_max']}) | "
                     f"{runs} | {sp['cpu_ratio_median']}x |")
    before = r.get("speed_before", {})
    shown = [g for g in before if g in r.get("groups", {})]
    if shown:
        lines += ["", "Before (every scan searching for the display copy: "
                  f"{r.get('speed_before_note', '')}): " + "; ".join(
                      f"{GROUP_TITLES.get(g, g)} {before[g]['ratio_median']}x, CPU time "
                      f"{before[g]['cpu_ratio_median']}x" for g in shown) + "."]
    if r.get("note"):
        lines += ["", f"Note: {r['note']}"]
    lines += ["", "| photos | search | copy | recall >= 10 px | faces >= 10 px left uncovered "
              "| engine seconds |", "|---|---|---|---|---|---|"]
    for g, rec in r.get("recall", {}).items():
        for key, label in (("before", "before: every scan for the display copy"),
                           ("scan", "scan"),
                           ("with_deeper_search", "scan + deeper search (time: the deeper one)")):
            if key not in rec:
                continue
            v = rec[key]
            lines.append(f"| {GROUP_TITLES.get(g, g)} | {label} | {v['copy_side']} px | "
                         f"{v['recall_ge10']:.4f} (n={v['faces_ge10']}) | "
                         f"{v['uncovered_ge10']} | {v['engine_seconds']} |")
    return lines + [""]


def write_readme() -> str:
    """Write bench/results/README.md from the JSON results (and return it)."""
    text = render_readme()
    (RESULTS / "README.md").write_text(text)
    return text


def render_readme() -> str:
    """bench/results/README.md as the JSON results make it: the one source of every figure."""
    lines = ["# Benchmark results", "", "Written by `make bench` (2 cores, no GPU).", ""]
    speed = _load("scan_speed")
    if speed:
        lines += _scan_speed_lines(speed)
    det = _load("detection")
    if det:
        lines += _detection_lines(det)
    ident = _load("identification")
    if ident:
        c, b = ident["chosen"], ident["best_zero_false_shows"]
        lines += ["## Identification", "",
                  "dlib alone, today's rule over a grid (two reference photos per person):", "",
                  "| setting | tolerance | margin | false shows | false covers (faces >= 60 px) | probes |",
                  "|---|---|---|---|---|---|",
                  f"| chosen default | {c['tolerance']} | {c['margin']} | {c['false_shows']} | "
                  f"{c['false_cover_rate_60px']:.1%} | {c['probes']} (+{c['lookalike_probes']} look-alike) |"]
        if b:
            lines.append(f"| best with 0 false shows | {b['tolerance']} | {b['margin']} | "
                         f"{b['false_shows']} | {b['false_cover_rate_60px']:.1%} | {b['probes']} |")
        lines.append("")
        sbs = ident.get("side_by_side")
        if sbs:
            lines += ["dlib alone (tolerance 0.5, margin 0.08) vs fused dlib + SFace "
                      "(gatekeeper/domain/fusion.py defaults); wrong person and un-enrolled shown "
                      "count every size (30-160 px and native), recognised is over faces >= 60 px:", "",
                      "| reference photos | decision | recognised (>= 60 px) | wrong person | "
                      "un-enrolled shown | of which >= 60 px | probes |",
                      "|---|---|---|---|---|---|---|"]
            for key, pair in sbs.items():
                for name, r in pair.items():
                    lines.append(f"| {key.split('_')[0]} | {name} | {r['recognised_60px']:.1%} | "
                                 f"{r['wrong_person']} | {r['unenrolled_shown']} | "
                                 f"{r['wrong_person_60px']} + {r['unenrolled_shown_60px']} | "
                                 f"{r['probes']} (+{r['lookalike_probes']} look-alike) |")
            lines.append("")
        t = ident.get("encode_timing")
        if t:
            lines += [f"- encoding per face, one thread ({t['faces']} faces): "
                      f"dlib {t['dlib_ms_per_face']} ms, "
                      f"SFace {t['sface_ms_per_face']} ms (aligned crop + network): fused / dlib = "
                      f"{t['fused_over_dlib']}x", ""]
    proxy = _load("children_proxy")
    if proxy:
        lines += _proxy_lines(proxy)
    pooling = _load("template_pooling")
    if pooling:
        lines += ["## Several templates per person", "",
                  "Fused identification, nearest template alone vs the pooled rule; a wrong "
                  "template is a stranger's photo enrolled into another person:", "",
                  "| reference photos | rule | recognised | wrong person | strangers shown | "
                  "shown through a wrong template |", "|---|---|---|---|---|---|"]
        for key, rules in pooling.items():
            if not isinstance(rules, dict) or "nearest" not in rules:
                continue
            for name, r in rules.items():
                lines.append(f"| {key.split('_')[0]} | {name} | {r['recognised']}/{r['genuine']} | "
                             f"{r['wrong_person']} | {r['stranger_shown']}/{r['stranger_probes']} | "
                             f"{r['wrong_template_shown']}/{r['wrong_template_probes']} |")
        lines.append("")
    portal = _load("portal")
    if portal:
        lines += ["## Consent portal", "",
                  f"- {portal['families']} families ({portal['contacts']} parent contacts, pupils "
                  f"from Year 8 with their own address): contacts imported in "
                  f"{portal['contacts_import_s']} s; {portal['links']} invitations made and written "
                  f"to the outbox in {portal['invitations_s']} s (target < 30 s)",
                  "- portal pages (median / p95, target < 100 ms): " + "; ".join(
                      f"{name} {t['median_ms']} / {t['p95_ms']} ms"
                      for name, t in portal["pages"].items()), ""]
    thr = _load("throughput")
    if thr:
        p = thr["photo_12mp_30_faces"]
        ppm = thr["photos_per_minute_4mp_12_faces"]
        lines += ["## Scan throughput", "",
                  f"- 12 MP photo, 30 faces: Gatekeeper whole scan {p['gatekeeper_whole_scan_s']} s "
                  f"({p['gatekeeper_faces_found']} faces) vs face_recognition default detection alone "
                  f"{p['face_recognition_default_detect_only_s']} s ({p['face_recognition_faces_found']} "
                  f"faces): ratio {p['ratio']}",
                  f"- 4 MP photos with 12 faces: {ppm['1_process']} photos/min with 1 process, "
                  f"{ppm['2_processes']} with 2",
                  f"- peak memory of a worker scanning a 24 MP photo: {thr['peak_rss_mb_24mp']} MB", ""]
    q = _load("queue_throughput")
    if q:
        lines += ["## Through the task queue (photos per minute, model loading included)", "",
                  "| queue | 1 worker process | 2 worker processes |", "|---|---|---|",
                  *(f"| {label} | {q[key]['1_process']} | {q[key]['2_process']} |"
                    for label, key in (("SQLite (embedded)", "sqlite_queue"), ("Redis", "redis_queue"))),
                  ""]
    rq = _load("review_queue")
    if rq:
        lines += ["## Review queue with 10 000 photos waiting (SQLite)", "",
                  *(f"- {k.replace('_', ' ')}: median {v['median_ms']} ms, max {v['max_ms']} ms"
                    for k, v in rq["pages"].items()), ""]
    lf = _load("live_follow")
    if lf:
        lines += [f"## A change of fact reaching the public store, {lf['live_publications']:,} "
                  "live publications (SQLite, local stores)", "",
                  "From the door's call to the end of the targeted job the worker runs for it "
                  "(target at most 60 s each):", "",
                  "| door | photos named | door (s) | to the public store (s) | taken down | "
                  "re-rendered |", "|---|---|---|---|---|---|",
                  *(f"| {k.replace('_', ' ')} | {v['photos']} | {v['door_s']} | "
                    f"{v['to_public_store_s']} | {v['taken_down']} | {v['rerendered']} |"
                    for k, v in lf["doors"].items()), "",
                  f"- the minute sweep with nothing changed: median {lf['idle_sweep_s']['median']}"
                  f" s, max {lf['idle_sweep_s']['max']} s (target under 1 s)",
                  f"- the daily full re-check of every live copy: {lf['daily_full_recheck_s']} s "
                  "(one unit of work a photo; the old minute sweep re-decided every live copy, in "
                  "one unit of work, every minute)", ""]
    wm = _load("web_memory")
    if wm:
        lines += ["## Web process under 4 concurrent views of an 80-megapixel photo", "",
                  f"- peak memory {wm['web_peak_mb']} MB (at start {wm['web_start_mb']} MB; "
                  f"target at most 400 MB); review image {wm['review_image_size'][0]}x"
                  f"{wm['review_image_size'][1]}; another user's page waited at most "
                  f"{wm['other_page_max_wait_s']} s meanwhile", ""]
    pp = _load("purge_planning")
    if pp:
        lines += ["## Purge planning on PostgreSQL", "",
                  f"- {pp['photos']:,} photos, {pp['faces']:,} faces, {pp['people']:,} people: "
                  f"plan in {pp['plan_seconds']} s ({pp['expired_people']} people past retention, "
                  f"{pp['photos_to_delete']} photos to delete, {pp['photos_to_cover']} to cover)", ""]
    sar = _load("sar_export")
    if sar:
        lines += ["## Subject access export", "",
                  f"- a person identified in {sar['photos']} photos of {sar['megapixels']:g} MP "
                  f"(each with {sar['other_faces']} other faces to cover): ZIP of {sar['files']} files "
                  f"({sar['zip_mb']} MB, summary PDF included) in {sar['export_seconds']} s "
                  f"({sar['cpu_seconds']} s CPU, {sar['render_threads']} render threads; target "
                  f"at most {sar['target_seconds']} s); peak memory {sar['peak_rss_mb']} MB", ""]
    cl = _load("cleaning")
    if cl:
        lines += ["## Cleaning 12 MP files: Gatekeeper vs mat2", "",
                  "Each cell: seconds / peak MB / metadata tags left, one fresh process per file "
                  "(interpreter start included); 'in service' is Gatekeeper's steady state inside "
                  "a running worker.", "",
                  "| input | tags in | Gatekeeper 2048 px | Gatekeeper 1024 px | Gatekeeper full size "
                  "| Gatekeeper in service, 2048 px | mat2 |", "|---|---|---|---|---|---|---|"]
        for fmt, row in cl["files_12mp"].items():
            def cell(r):
                if r.get("refused"):
                    return f"refused ({r['seconds']} s)"
                return f"{r['seconds']} / {r['peak_mb']} / {r['tags_left']}"
            lines.append(f"| {fmt} | {row['input_tags']} | {cell(row['gatekeeper_2048'])} | "
                         f"{cell(row['gatekeeper_1024'])} | {cell(row['gatekeeper_full'])} | "
                         f"{row['gatekeeper_in_service_2048']['seconds']} s | {cell(row['mat2'])} |")
        lines.append("")
    imp = _load("import_scale")
    if imp:
        lines += ["## Large MIS files through the CLI (embedded SQLite)", "",
                  "Each import in a fresh instance and its own process; CPU time is steadier than "
                  "wall time on a shared machine.", "",
                  "| rows | people.csv | people: CPU s / wall s / peak MB | contacts.csv "
                  "| contacts: CPU s / wall s / peak MB |", "|---|---|---|---|---|"]
        for r in imp["sizes"]:
            pe, co = r["people"], r["contacts"]
            lines.append(f"| {r['rows']:,} | {r['people_mb']} MB | {pe['cpu_s']} / {pe['s']} / "
                         f"{pe['peak_mb']} | {r['contacts_mb']} MB | {co['cpu_s']} / {co['s']} / "
                         f"{co['peak_mb']} |")
        lines.append("")
    vid = _load("video")
    if vid:
        lines += _video_lines(vid)
    length = _load("video_length")
    if length:
        lines += _video_length_lines(length)
    real = _load("video_real")
    if real and real.get("clips"):
        lines += _video_real_lines(real)
    return "\n".join(lines)
