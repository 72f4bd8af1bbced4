/**
 * The preset dictionary the stored session state is compressed against (functions/lib/state-codec.ts): a
 * representative state, so that key names and the usual structure cost a back-reference instead of bytes.
 *
 * NEVER EDIT: stored items were compressed against exactly this text. A better dictionary is a new codec
 * version beside this one.
 */
export const STATE_DICTIONARY_V1: string = JSON.stringify({
  reason: 'idle',
  state: {
    v: 1,
    sessionId: 'gym-a:tm-01:1',
    gymId: 'gym-a',
    treadmillId: 'tm-01',
    startTs: 1795510800000,
    seqWatermark: 309,
    lastEventTs: 1795510881642,
    belt: { ts: 1795510881642, speedKmh: 2.8, inclinePct: 4 },
    sourceDirection: null,
    strikes: 'tttttttt',
    heartRate: { ts: 1795510881642, bpm: 145 },
    running: null,
    cadenceSpm: 112,
    totals: {
      forward: { movingS: 80.09699999999997, distanceM: 95.5198888888889, elevationGainM: 2.095795555555555 },
      backward: { movingS: 0, distanceM: 0, elevationGainM: 0 },
      unknown: { movingS: 0, distanceM: 0, elevationGainM: 0 },
    },
    gapS: 0,
    hrStats: { n: 80, mean: 135.6875, m2: 3487.187500000031, min: 128, max: 145 },
    hrSeconds: {
      '125': 17.595000000000002,
      '130': 28.405,
      '140': 28.029000000000007,
      '145': 6.0680000000000005,
    },
    cadence: { n: 1, mean: 112, m2: 0, min: 112, max: 112 },
    strideLengthM: { n: 1, mean: 0.8, m2: 0, min: 0.8, max: 0.8 },
    inclineSeconds: 80.09699999999997,
    inclineSum: 205.388,
    calories: {
      idleSeconds: 0,
      workload: {},
      heartRateBuckets: {
        '128': [8.801, 0, 1126.528, 131.39893],
        '129': [8.796000000000001, 0, 1134.684, 131.32428000000002],
        '130': [8.802000000000001, 0, 1144.26, 131.41386],
        '131': [9.350999999999999, 0, 1224.9810000000002, 139.61043],
        '132': [10.250000000000002, 0, 1352.9999999999998, 153.03250000000003],
        '141': [6.596, 0, 930.0360000000002, 76.02989333333335],
        '142': [6.597000000000001, 0, 936.7740000000001, 76.04142000000002],
        '143': [7.152000000000001, 0, 1022.7360000000001, 82.43872000000002],
        '144': [7.698, 0, 1108.5120000000002, 88.73228000000002],
        '145': [6.054, 0, 877.83, 69.78244000000001],
      },
      backwardHeartRate: { seconds: 0, hrSeconds: 0, vo2Seconds: 0 },
      reasonSeconds: {},
      heartRateReasonSeconds: { speed_below_validated_range: 34.09700000000001 },
    },
    balance: {
      forward: {
        steps: 146,
        firstFoot: 'L',
        firstContactTs: { L: 1795510801000, R: 1795510801545 },
        lastContactTs: { L: 1795510881093, R: 1795510881642 },
        strideTimeMs: {
          L: { n: 72, mean: 1112.4027777777778, m2: 805665.3194444437, min: 1090, max: 2003 },
          R: { n: 72, mean: 1112.4583333333326, m2: 793391.8750000003, min: 1094, max: 1996 },
        },
        stepTimeMs: {
          L: { n: 72, mean: 562.0555555555557, m2: 802019.7777777779, min: 545, max: 1451 },
          R: { n: 73, mean: 550.3287671232875, m2: 638.1095890410975, min: 545, max: 555 },
        },
        contactMs: {
          L: { n: 73, mean: 600, m2: 0, min: 600, max: 600 },
          R: { n: 73, mean: 600, m2: 0, min: 600, max: 600 },
        },
        stepWidthMm: { n: 146, mean: 108.56849315068493, m2: 5345.81506849315, min: 100, max: 118 },
        copLateralMm: {
          L: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
          R: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        },
        handrailSensor: false,
        handrailSteps: 0,
        stumbles: 0,
      },
      backward: {
        steps: 0,
        firstFoot: null,
        firstContactTs: { L: null, R: null },
        lastContactTs: { L: null, R: null },
        strideTimeMs: {
          L: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
          R: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        },
        stepTimeMs: {
          L: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
          R: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        },
        contactMs: {
          L: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
          R: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        },
        stepWidthMm: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        copLateralMm: {
          L: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
          R: { n: 0, mean: 0, m2: 0, min: 0, max: 0 },
        },
        handrailSensor: false,
        handrailSteps: 0,
        stumbles: 0,
      },
    },
    safetyStops: { forward: 0, backward: 0, unknown: 0 },
    stumbles: 0,
    vendorEnergy: { last: 12, kcal: 0 },
    timeline: {
      index: 0,
      points: [
        [2, 5.4, 1.5, null, 'f'],
        [10, 5.4, 1.5, 130, 'f'],
        [20, 5.4, 1.5, 130, 'f'],
        [30, 5.4, 1.5, 130, 'f'],
        [40, 5.4, 1.5, 131, 'f'],
        [50, 2.8, 4, 142, 'f'],
        [60, 2.8, 4, 142, 'f'],
        [70, 2.8, 4, 142, 'f'],
        [80, 2.8, 4, 142, 'f'],
      ],
    },
    lastTimelineSlot: 8,
    userToken: 'member-0001',
    program: 'interval',
  },
});
